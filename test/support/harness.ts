/**
 * The test harness: the one module tests import to start TimeWise Chat (in the test's process, or
 * the real entry point as a child process), connect real clients, send requests, wait for
 * conditions, sign tokens, and ask for the real programs some tests need. Each job has one name;
 * the parts live in small files beside this one.
 */
export {
  type ClientOptions,
  collect,
  connectWithToken,
  ok,
  openSocket,
  refusalOf,
  request,
  sessionOf,
  type TestSocket,
  waitFor,
} from "./client.js";
export { configProblems } from "./config.js";
export { ManualTimers } from "./manual-timers.js";
export { createTestDatabase, postgresUrl, type TestDatabase } from "./postgres-database.js";
export {
  CLI,
  cliAddUser,
  type Exit,
  MAIN,
  ROOT,
  runUntilExit,
  type ServerProcess,
  serverEnv,
  spawnServer,
  tempDir,
} from "./process.js";
export {
  type StartOptions,
  sqliteOnly,
  startServer,
  TEST_CHAT_STORE,
  type TestChatStore,
  type TestServer,
  type TestUser,
  tokenSettings,
} from "./server.js";
export { CHROMIUM, requireService, type Service, TEST_POSTGRES, TEST_REDIS_URL } from "./services.js";
export { TestClock } from "./test-clock.js";
export { craftToken, signToken, TEST_SECRET } from "./tokens.js";
export { until } from "./wait.js";
