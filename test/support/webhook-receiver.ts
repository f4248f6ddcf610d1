/**
 * A stand-in for the PHP app's webhook endpoint: a local HTTP server that records every request
 * (raw body and headers) and answers as the test tells it to (a status, later, or never). "Later"
 * is a slow PHP app without a clock: the answer waits until the test calls `release()`.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** What to answer: a status code, "hang" to never answer, or "hold" to answer 204 on `release()`. */
export type Reply = number | "hang" | "hold";

export interface Receiver {
  url: string;
  received: ReceivedWebhook[];
  /** decides the answer for the n-th request (0-based) */
  reply: (n: number, hook: ReceivedWebhook) => Reply;
  /** Answers every held request with 204; returns how many there were. */
  release(): number;
  close(): Promise<void>;
}

export async function startReceiver(reply: Receiver["reply"] = () => 204): Promise<Receiver> {
  const hanging: ServerResponse[] = [];
  const held: ServerResponse[] = [];
  const receiver: Receiver = {
    url: "",
    received: [],
    reply,
    release: () => {
      const answered = held.splice(0);
      for (const res of answered) res.writeHead(204).end();
      return answered.length;
    },
    close: async () => {
      for (const res of [...hanging, ...held]) res.destroy();
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
      if (answer === "hang" || answer === "hold") {
        (answer === "hang" ? hanging : held).push(res);
        return;
      }
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/chat`;
  return receiver;
}
