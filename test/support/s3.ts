/**
 * A real S3-protocol server on loopback for tests (s3rver): it speaks the same HTTP API, checks
 * request signatures, and keeps its objects in a temporary folder. `startS3()` gives a fresh
 * bucket on a free port, and the settings that point TimeWise Chat at it.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import S3rver from "s3rver";
import type { S3StoreConfig } from "../../src/files/s3-store.js";

/** s3rver accepts these credentials (and checks the signature made with them). */
const KEY = "S3RVER";

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** the store settings, as loadConfig would make them from `env` */
  config: S3StoreConfig;
  /** FILES_STORE=s3 and the S3_* settings for a server process */
  env: Record<string, string>;
  /** the key of every object the service removed so far, in order (as S3 event notifications say) */
  removed: string[];
  /** Stops answering (connections are refused), keeping the objects. */
  stop(): Promise<void>;
  /** Answers again on the same address, with the objects it had. */
  start(): Promise<void>;
  close(): Promise<void>;
}

let buckets = 0;

export async function startS3(): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), "twc-s3-"));
  buckets += 1;
  const bucket = `twc-test-${process.pid}-${buckets}`;
  const removed: string[] = [];
  let closing: Promise<void> | null = null;
  /** A service on `port` (0: a free one) over the same folder, so a restart keeps the objects. */
  const serve = async (port: number) => {
    const service = new S3rver({
      address: "127.0.0.1",
      port,
      silent: true,
      directory: dir,
      configureBuckets: [{ name: bucket }],
    });
    service.on("event", (event) => {
      for (const record of event.Records) {
        if (record.eventName === "ObjectRemoved:Delete")
          removed.push(decodeURIComponent(record.s3.object.key));
      }
    });
    return { service, address: await service.run() };
  };
  let { service: server, address } = await serve(0);
  let stopped = false;
  const endpoint = `http://127.0.0.1:${address.port}`;
  return {
    endpoint,
    bucket,
    config: {
      kind: "s3",
      bucket,
      region: "us-east-1",
      endpoint,
      credentials: { accessKeyId: KEY, secretAccessKey: KEY },
      // s3rver (like most self-hosted services) has no per-bucket host names
      forcePathStyle: true,
    },
    removed,
    env: {
      FILES_STORE: "s3",
      S3_BUCKET: bucket,
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: KEY,
      S3_SECRET_ACCESS_KEY: KEY,
      S3_FORCE_PATH_STYLE: "true",
    },
    async stop() {
      stopped = true;
      await server.close();
    },
    async start() {
      ({ service: server, address } = await serve(address.port));
      stopped = false;
    },
    /** Stops the service (a test may stop it early, to see what a failing S3 does); closing twice is fine. */
    async close() {
      closing ??= (stopped ? Promise.resolve() : server.close()).then(() =>
        rmSync(dir, { recursive: true, force: true }),
      );
      await closing;
    },
  };
}
