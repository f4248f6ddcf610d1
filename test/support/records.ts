/**
 * Conversations on TimeWise records, as the PHP back end attaches them: `PUT
 * /api/server/records/:kind/:recordId` with the service key. Start the server with
 * `env: { SERVICE_API_KEY: RECORDS_KEY }` to use it.
 */
import type { RecordSyncBody } from "../../src/protocol/index.js";
import type { TestServer } from "./harness.js";

/** The service key the record tests start their servers with. */
export const RECORDS_KEY = "service-key-for-the-record-tests-0123456789abcdef";

/** What the PHP app sends about a record. */
export interface RecordInput {
  title: string;
  url: string;
  memberIds: readonly string[];
}

/** The raw answer of an attach: its status and JSON body. */
export async function putRecord(
  server: TestServer,
  kind: string,
  recordId: string,
  body: unknown,
  key = RECORDS_KEY,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(
    `${server.url}/api/server/records/${encodeURIComponent(kind)}/${encodeURIComponent(recordId)}`,
    {
      method: "PUT",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    },
  );
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Attaches (or syncs) a record's conversation; fails unless the server answers 200 or 201. */
export async function attachRecord(
  server: TestServer,
  kind: string,
  recordId: string,
  input: RecordInput,
): Promise<RecordSyncBody & { status: number }> {
  const { status, body } = await putRecord(server, kind, recordId, input);
  if (status !== 200 && status !== 201) {
    throw new Error(`attaching ${kind}/${recordId} answered ${status}: ${JSON.stringify(body)}`);
  }
  return { ...(body as unknown as RecordSyncBody), status };
}
