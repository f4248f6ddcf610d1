/**
 * The store contracts (chat-store-contract.ts, file-records-contract.ts) against the SQLite store, driven through the same
 * asynchronous calls as the PostgreSQL store.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asAsyncChatStore } from "../../src/storage/async-chat-store.js";
import { openDatabase } from "../../src/storage/sqlite/open.js";
import { SqliteChatStore } from "../../src/storage/sqlite/sqlite-chat-store.js";
import { ackRecordsContract } from "./ack-records-contract.js";
import { chatStoreContract, type OpenedStore } from "./chat-store-contract.js";
import { fileRecordsContract } from "./file-records-contract.js";
import { hoursContract } from "./hours-contract.js";
import { pushSubscriptionsContract } from "./push-subscriptions-contract.js";

async function openSqlite(): Promise<OpenedStore> {
  const dir = mkdtempSync(join(tmpdir(), "twc-contract-"));
  const path = join(dir, "chat.db");
  const store = new SqliteChatStore(openDatabase(path));
  const others: SqliteChatStore[] = [];
  return {
    store: asAsyncChatStore(store),
    async another() {
      // a second node sharing the same file
      const other = new SqliteChatStore(openDatabase(path));
      others.push(other);
      return asAsyncChatStore(other);
    },
    async dispose() {
      for (const other of others) await other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

chatStoreContract("SQLite", openSqlite);
fileRecordsContract("SQLite", openSqlite);
ackRecordsContract("SQLite", openSqlite);
hoursContract("SQLite", openSqlite);
pushSubscriptionsContract("SQLite", openSqlite);
