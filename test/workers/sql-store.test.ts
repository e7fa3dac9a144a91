/**
 * The SqlStore contract (test/node/branch/contract/sql-store-contract.ts) on Durable Object SQLite
 * in workerd; test/node/branch/sql-store.test.ts runs it on better-sqlite3. Each case gets a new
 * branch object (a unique id, so empty storage) and runs inside it.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { doSqlStore } from "../../durable/adapters/do-sqlite.js";
import { sqlStoreContract } from "../node/branch/contract/sql-store-contract.js";

sqlStoreContract("Durable Object SQLite in workerd (adapters/do-sqlite.ts)", {
  withStore: (fn) => runInDurableObject(env.BRANCH.get(env.BRANCH.newUniqueId()), (_instance, state) => fn(doSqlStore(state.storage))),
});
