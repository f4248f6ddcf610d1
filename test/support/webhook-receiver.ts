/**
 * A stand-in for the PHP app's webhook endpoint: a local HTTP server that records every request
 * (raw body and headers) and answers as the test tells it to (a status, a delay, or never).
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What to answer: a status code, or "hang" to never answer. */
export type Reply = number | "hang";

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** decides the answer for the n-th request (0-based) */
  reply: (n: number, hook: ReceivedWebhook) => Reply;
  close(): Promise<void>;
}

export async function startReceiver(reply: Receiver["reply"] = () => 204): Promise<Receiver> {
  const hanging: ServerResponse[] = [];
  const receiver: Receiver = {
    url: "",
    received: [],
    reply,
    close: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const hook = { headers: req.headers, body: Buffer.concat(chunks).toString("utf8"), at: Date.now() };
      const n = receiver.received.push(hook) - 1;
      const answer = receiver.reply(n, hook);
      if (answer === "hang") {
        hanging.push(res);
        return;
      }
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/chat`;
  return receiver;
}
