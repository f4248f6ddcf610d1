/**
 * Turns anything a handler threw into the contract's error body. Known errors keep their code;
 * a busy or full database and an unreachable directory are UNAVAILABLE (retry later); anything
 * else is INTERNAL, logged here, and never shown to the client. Used alike by socket acks, the
 * HTTP routes and the server API, so one failure gets one answer whichever way it came.
 */
import { AppError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { ErrorBody } from "../protocol/index.js";
import { DirectoryUnavailableError } from "../users/types.js";

const STORAGE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|FULL|IOERR|READONLY|CANTOPEN|NOMEM)/;

export function isStorageUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && STORAGE_UNAVAILABLE.test(code);
}

export function toErrorBody(error: unknown, logger: Logger, context: Record<string, unknown>): ErrorBody {
  if (error instanceof AppError) return error.toBody();
  if (error instanceof DirectoryUnavailableError) {
    return {
      code: "UNAVAILABLE",
      message: "The user directory can't be reached right now. Please try again soon.",
    };
  }
  if (isStorageUnavailable(error)) {
    logger.warn({ ...context, code: (error as { code: string }).code }, "chat database unavailable");
    return {
      code: "UNAVAILABLE",
      message: "The chat server can't save right now. Please try again in a moment.",
    };
  }
  logger.error({ ...context, err: error }, "unexpected error");
  return { code: "INTERNAL", message: "Something went wrong on the chat server. Please try again." };
}
