/** The SqlStore contract (contract/sql-store-contract.ts) on better-sqlite3; test/workers/sql-store.test.ts runs it on Durable Object SQLite. */
import { nodeSqlStore } from "../../../durable/adapters/node-sqlite.js";
import { sqlStoreContract } from "./contract/sql-store-contract.js";

sqlStoreContract("better-sqlite3 in Node (adapters/node-sqlite.ts)", {
  async withStore(fn) {
    const store = nodeSqlStore();
    try {
      return await fn(store);
    } finally {
      store.close();
    }
  },
});
