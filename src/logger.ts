/**
 * The structured logger. Tokens, passwords, cookies and message bodies are redacted wherever
 * they appear in a logged object, so a careless `log.info({ payload })` cannot leak them.
 */
import { type Logger, pino } from "pino";

export type { Logger } from "pino";

const REDACT = [
  "token",
  "password",
  "body",
  "secret",
  "authorization",
  "cookie",
  "*.token",
  "*.password",
  "*.body",
  "*.secret",
  "*.authorization",
  "*.cookie",
  "req.headers.authorization",
  "req.headers.cookie",
  "payload.body",
  "payload.token",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, base: { service: "timewise-chat" }, redact: { paths: REDACT, censor: "[hidden]" } },
    destination ?? pino.destination({ sync: false }),
  );
}
