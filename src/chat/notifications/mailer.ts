/**
 * (v2.3) The digest email: plain text and simple HTML, sent over SMTP_URL with nodemailer. Every
 * value from users is escaped in the HTML; the text part needs no escaping.
 */
import nodemailer from "nodemailer";

/** One message as the mail lists it. */
export interface DigestLine {
  roomLabel: string;
  senderName: string;
  createdAt: string;
  body: string;
  link: string;
}

/** The mail to send. */
export interface DigestMail {
  to: string;
  userName: string;
  lines: readonly DigestLine[];
  chatLink: string;
}

/** Sends one digest; throws when the SMTP server does not take it. */
export type SendMail = (mail: DigestMail) => Promise<void>;

/**
 * The link to one room, as the mail writes it: the web app opens the room from the fragment
 * (web/links.ts), which never reaches the server's logs.
 */
export function roomLink(publicUrl: string, roomId: string): string {
  return `${publicUrl}/#room=${encodeURIComponent(roomId)}`;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function digestSubject(mail: DigestMail): string {
  const n = mail.lines.length;
  return n === 1 ? "1 unread message in TimeWise Chat" : `${n} unread messages in TimeWise Chat`;
}

export function digestText(mail: DigestMail): string {
  const lines = mail.lines.map(
    (l) => `${l.roomLabel}, ${l.senderName}, ${l.createdAt}:\n${l.body}\n${l.link}\n`,
  );
  return `Hello ${mail.userName},\n\nyou have unread messages:\n\n${lines.join("\n")}\nOpen the chat: ${mail.chatLink}\n`;
}

export function digestHtml(mail: DigestMail): string {
  const items = mail.lines
    .map(
      (l) =>
        `<li><p><strong>${escapeHtml(l.roomLabel)}</strong> &middot; ${escapeHtml(l.senderName)} &middot; ${escapeHtml(l.createdAt)}</p>` +
        `<p>${escapeHtml(l.body)}</p><p><a href="${escapeHtml(l.link)}">Open</a></p></li>`,
    )
    .join("");
  return `<!doctype html><html><body><p>Hello ${escapeHtml(mail.userName)},</p><p>you have unread messages:</p><ul>${items}</ul><p><a href="${escapeHtml(mail.chatLink)}">Open the chat</a></p></body></html>`;
}

/** A sender over `smtpUrl` (smtp:// or smtps://user:pass@host:port), from `from`. */
export function smtpMailer(smtpUrl: string, from: string): { send: SendMail; close(): void } {
  const transport = nodemailer.createTransport(smtpUrl);
  return {
    send: async (mail) => {
      await transport.sendMail({
        from,
        to: mail.to,
        subject: digestSubject(mail),
        text: digestText(mail),
        html: digestHtml(mail),
      });
    },
    close: () => transport.close(),
  };
}
