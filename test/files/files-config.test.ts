/**
 * The files settings (FILES_*, S3_*): the contract's defaults, and one line naming the variable
 * for each bad value.
 */
import assert from "node:assert/strict";
import { resolve } from "node:path";
import { describe, test } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { configProblems } from "../support/harness.js";

const BASE = { NODE_ENV: "test", AUTH_JWT_SECRET: "x".repeat(40) };
const S3 = { FILES_STORE: "s3", S3_BUCKET: "chat-files" };

const problems = (env: Record<string, string>) => configProblems({ ...BASE, ...env });

describe("files settings", () => {
  test("default to a disk store beside the SQLite file, 25 MiB uploads, 1 GiB each, links for an hour", () => {
    const files = loadConfig({ ...BASE, SQLITE_PATH: "/var/lib/chat/database.db" }).files;
    assert.deepEqual(files, {
      store: { kind: "disk", dir: "/var/lib/chat/files" },
      maxBytes: 26_214_400,
      quotaBytes: 1_073_741_824,
      urlTtlS: 3600,
    });
    assert.deepEqual(loadConfig(BASE).files.store, { kind: "disk", dir: resolve("files") });
  });

  test("FILES_DIR and the limits are taken as given", () => {
    const files = loadConfig({
      ...BASE,
      FILES_DIR: "/srv/uploads",
      FILES_MAX_BYTES: "1000",
      FILES_QUOTA_BYTES: "5000",
      FILES_URL_TTL_S: "60",
    }).files;
    assert.deepEqual(files, {
      store: { kind: "disk", dir: "/srv/uploads" },
      maxBytes: 1000,
      quotaBytes: 5000,
      urlTtlS: 60,
    });
  });

  test("the s3 store takes its bucket, region, endpoint, keys and path style", () => {
    const store = loadConfig({
      ...BASE,
      ...S3,
      S3_REGION: "eu-central-1",
      S3_ENDPOINT: "https://s3.example.com",
      S3_ACCESS_KEY_ID: "AKIAEXAMPLE",
      S3_SECRET_ACCESS_KEY: "secret-example",
      S3_FORCE_PATH_STYLE: "true",
    }).files.store;
    assert.deepEqual(store, {
      kind: "s3",
      bucket: "chat-files",
      region: "eu-central-1",
      endpoint: "https://s3.example.com",
      credentials: { accessKeyId: "AKIAEXAMPLE", secretAccessKey: "secret-example" },
      forcePathStyle: true,
    });
    assert.deepEqual(loadConfig({ ...BASE, ...S3 }).files.store, {
      kind: "s3",
      bucket: "chat-files",
      region: "us-east-1",
      endpoint: null,
      credentials: null,
      forcePathStyle: false,
    });
  });

  test("a disk store with a PostgreSQL chat database warns that other machines cannot read its files", () => {
    const config = loadConfig({ ...BASE, CHAT_DATABASE_URL: "postgres://chat@db.example.com/chat" });
    assert.equal(config.warnings.filter((w) => w.includes("FILES_STORE")).length, 1);
    const s3 = loadConfig({ ...BASE, ...S3, CHAT_DATABASE_URL: "postgres://chat@db.example.com/chat" });
    assert.deepEqual(s3.warnings, []);
  });

  const BAD: { name: string; env: Record<string, string>; variable: string }[] = [
    { name: "an unknown store", env: { FILES_STORE: "ftp" }, variable: "FILES_STORE" },
    { name: "s3 without a bucket", env: { FILES_STORE: "s3" }, variable: "S3_BUCKET" },
    { name: "a size limit with a unit", env: { FILES_MAX_BYTES: "25MB" }, variable: "FILES_MAX_BYTES" },
    { name: "a size limit of 0", env: { FILES_MAX_BYTES: "0" }, variable: "FILES_MAX_BYTES" },
    {
      name: "a size limit past S3's 5 GiB",
      env: { FILES_MAX_BYTES: "6000000000" },
      variable: "FILES_MAX_BYTES",
    },
    { name: "a quota of -1", env: { FILES_QUOTA_BYTES: "-1" }, variable: "FILES_QUOTA_BYTES" },
    { name: "a link lifetime of 0", env: { FILES_URL_TTL_S: "0" }, variable: "FILES_URL_TTL_S" },
    {
      name: "an endpoint that is not a URL",
      env: { ...S3, S3_ENDPOINT: "minio:9000" },
      variable: "S3_ENDPOINT",
    },
    {
      name: "a path style of yes",
      env: { ...S3, S3_FORCE_PATH_STYLE: "yes" },
      variable: "S3_FORCE_PATH_STYLE",
    },
    { name: "FILES_DIR with the s3 store", env: { ...S3, FILES_DIR: "/srv/uploads" }, variable: "FILES_DIR" },
    {
      name: "an access key without its secret",
      env: { ...S3, S3_ACCESS_KEY_ID: "AKIAEXAMPLE" },
      variable: "S3_SECRET_ACCESS_KEY",
    },
    {
      name: "a secret without its access key",
      env: { ...S3, S3_SECRET_ACCESS_KEY: "secret-example" },
      variable: "S3_ACCESS_KEY_ID",
    },
  ];
  for (const c of BAD) {
    test(`${c.name} gives one line naming ${c.variable}`, () => {
      const lines = problems(c.env);
      assert.equal(lines.length, 1, lines.join("\n"));
      assert.ok(lines[0]?.startsWith(`${c.variable}:`), lines[0]);
    });
  }
});
