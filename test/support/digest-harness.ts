/**
 * What the email digest tests share: a real SMTP server on loopback (smtp-server) that parses
 * every mail with mailparser and can turn mails away as one that is down, the environment an app
 * needs to mail through it, people with an email address, and time moved one digest turn at a time.
 */
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import { DIGEST_EVERY_MS } from "../../src/chat/notifications/digests.js";
import type { TestServer } from "./harness.js";
import type { ManualTimers } from "./manual-timers.js";
import type { Person } from "./rooms.js";
import type { TestClock } from "./test-clock.js";

export const MAIL_FROM = "TimeWise Chat <chat@example.com>";

export interface MailCatcher {
  /** `smtp://127.0.0.1:<port>` */
  url: string;
  /** SMTP_URL, SMTP_FROM and CHAT_PUBLIC_URL for an app that mails through this server */
  env: Record<string, string>;
  /** every mail accepted so far, parsed, in order */
  mails: ParsedMail[];
  /** while true every mail is turned away with 451, as by a mail server that is down for a while */
  refusing: boolean;
  mailsTo(address: string): ParsedMail[];
  close(): Promise<void>;
}

export async function startMailCatcher(): Promise<MailCatcher> {
  const mails: ParsedMail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    onData(stream, _session, callback) {
      if (catcher.refusing) {
        stream.resume();
        stream.on("end", () => callback(Object.assign(new Error("try again later"), { responseCode: 451 })));
        return;
      }
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        simpleParser(Buffer.concat(chunks))
          .then((mail) => {
            mails.push(mail);
            callback();
          })
          .catch(callback);
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  const url = `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`;
  const catcher: MailCatcher = {
    url,
    env: { SMTP_URL: url, SMTP_FROM: MAIL_FROM, CHAT_PUBLIC_URL: "https://chat.example.com" },
    mails,
    refusing: false,
    mailsTo: (address) =>
      mails.filter((m) => (Array.isArray(m.to) ? m.to : [m.to]).some((t) => t?.text.includes(address))),
    close: () => new Promise<void>((resolve) => smtp.close(() => resolve())),
  };
  return catcher;
}

/**
 * Makes people whose logins are `prefix` and a count, so that one file's people never clash:
 * the user is added through `addOn` (the node they connect to unless told) and connected to `node`.
 */
export function personMaker(prefix: string) {
  let n = 0;
  return async (
    node: TestServer,
    name: string,
    email?: string,
    addOn: TestServer = node,
  ): Promise<Person> => {
    n += 1;
    const user = await addOn.addUser(name, { login: `${prefix}${n}`, ...(email ? { email } : {}) });
    return { id: user.id, user, socket: await node.connect(user) };
  };
}

/** Lets `minutes` pass: at each minute the clock moves and every node's job turn comes at once. */
export async function passMinutes(
  clock: TestClock,
  timers: readonly ManualTimers[],
  minutes: number,
): Promise<void> {
  for (let i = 0; i < minutes; i++) {
    clock.advance(DIGEST_EVERY_MS);
    await Promise.all(timers.map((t) => t.advance(DIGEST_EVERY_MS)));
  }
}
