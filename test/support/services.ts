/**
 * The real programs some tests need (MariaDB, Redis, PostgreSQL, PHP and its extensions, Chromium),
 * and one way to ask for them: `requireService`. On a laptop without one, its tests are skipped and
 * the reason is printed; under CI=true a missing program is a failure, never a silent skip, since
 * `.ci/run` installs them all and a CI run that tested less must not pass.
 */
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { Redis } from "ioredis";
import { mariaDbProblem } from "./mariadb.js";
import { php, phpProblem } from "./php.js";

/** Debian's Chromium, which the browser tests drive (never a downloaded browser). */
export const CHROMIUM = process.env.TEST_CHROMIUM ?? "/usr/bin/chromium";
/** The Redis the cluster and session tests use. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
/** The PostgreSQL server tests may use (user root, trust authentication). */
export const TEST_POSTGRES = {
  host: process.env.TEST_PG_HOST ?? "127.0.0.1",
  port: Number(process.env.TEST_PG_PORT ?? 5432),
};

/** Everything a test can ask for. `php-redis` and `php-mysql` are PHP with that extension. */
export type Service = "mariadb" | "redis" | "postgres" | "php" | "php-redis" | "php-mysql" | "chromium";

const checks: Record<Service, () => Promise<string | null>> = {
  mariadb: mariaDbProblem,
  redis: redisProblem,
  postgres: postgresProblem,
  php: phpProblem,
  "php-redis": () => phpExtensionProblem("redis", "php-redis"),
  "php-mysql": () => phpExtensionProblem("pdo_mysql", "php-mysql"),
  chromium: async () =>
    existsSync(CHROMIUM) ? null : `${CHROMIUM} is missing (install Debian's chromium package)`,
};

/** One check per service and process: several suites of a file may ask for the same one. */
const known = new Map<Service, Promise<string | null>>();

/**
 * For `{ skip }` of a test or suite: false when every service answers, else the reasons they don't.
 * Under CI=true it throws instead, so the test file fails.
 */
export async function requireService(...services: Service[]): Promise<string | false> {
  const problems: string[] = [];
  for (const service of services) {
    let check = known.get(service);
    if (!check) {
      check = checks[service]();
      known.set(service, check);
    }
    const problem = await check;
    if (problem !== null) problems.push(problem);
  }
  if (problems.length === 0) return false;
  const reason = problems.join("; ");
  if (process.env.CI === "true")
    throw new Error(`CI=true needs ${services.join(", ")} for these tests: ${reason}`);
  process.stderr.write(`skipping tests that need ${services.join(", ")}: ${reason}\n`);
  return reason;
}

async function redisProblem(): Promise<string | null> {
  const probe = new Redis(TEST_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
  probe.on("error", () => {});
  try {
    await probe.connect();
    await probe.ping();
    return null;
  } catch (error) {
    return `Redis at ${TEST_REDIS_URL} is not available (${error instanceof Error ? error.message : String(error)})`;
  } finally {
    probe.disconnect();
  }
}

/**
 * Asks the server to start TLS (PostgreSQL's SSLRequest): a PostgreSQL answers one byte, "S" or
 * "N", which tells it apart from any other program on that port without needing a driver.
 */
function postgresProblem(): Promise<string | null> {
  const where = `PostgreSQL at ${TEST_POSTGRES.host}:${TEST_POSTGRES.port}`;
  return new Promise((resolve) => {
    const socket = connect(TEST_POSTGRES);
    const done = (problem: string | null) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(2000, () => done(`${where} did not answer within 2 s`));
    socket.once("error", (error) => done(`${where} is not available (${error.message})`));
    socket.once("connect", () => {
      const sslRequest = Buffer.alloc(8);
      sslRequest.writeInt32BE(8, 0);
      sslRequest.writeInt32BE(80877103, 4);
      socket.write(sslRequest);
    });
    socket.once("data", (answer) => {
      const byte = answer.subarray(0, 1).toString("latin1");
      done(byte === "S" || byte === "N" ? null : `${where} does not speak PostgreSQL's protocol`);
    });
  });
}

async function phpExtensionProblem(extension: string, apt: string): Promise<string | null> {
  const noPhp = await phpProblem();
  if (noPhp !== null) return noPhp;
  const loaded = await php("echo extension_loaded($argv[1]) ? 'yes' : 'no';", [extension]).catch(() => "no");
  return loaded === "yes"
    ? null
    : `php has no ${extension} extension (install it with: apt-get install -y ${apt})`;
}
