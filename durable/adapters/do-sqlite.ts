/** SqlStore over Durable Object SQLite storage (`ctx.storage.sql`). */
import type { SqlStore, SqlValue } from "../core/sql.js";

export function doSqlStore(storage: DurableObjectStorage): SqlStore {
  const sql = storage.sql;
  return {
    all: <T>(query: string, ...params: SqlValue[]) =>
      sql.exec(query, ...params).toArray() as unknown as T[],
    one: <T>(query: string, ...params: SqlValue[]) => {
      const rows = sql.exec(query, ...params).toArray();
      return rows[0] as unknown as T | undefined;
    },
    run: (query: string, ...params: SqlValue[]) => {
      // exec() runs the statement eagerly; the cursor is drained so errors surface here.
      sql.exec(query, ...params).toArray();
    },
    script: (query: string) => {
      sql.exec(query);
    },
    // Durable Object SQLite forbids BEGIN/COMMIT statements; transactionSync is the supported way.
    transaction: <T>(fn: () => T) => storage.transactionSync(fn),
  };
}
