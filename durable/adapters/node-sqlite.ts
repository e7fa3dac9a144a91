/** SqlStore over better-sqlite3, for running the branch core in plain Node (simulation, property tests). */
import Database from "better-sqlite3";
import type { SqlStore, SqlValue } from "../core/sql.js";

export function nodeSqlStore(path = ":memory:"): SqlStore & { close(): void } {
  const db = new Database(path);
  db.pragma("journal_mode = WAL");
  db.pragma("foreign_keys = ON");
  const statements = new Map<string, Database.Statement>();
  const prepare = (sql: string) => {
    let s = statements.get(sql);
    if (!s) {
      s = db.prepare(sql);
      statements.set(sql, s);
    }
    return s;
  };
  return {
    all: <T>(sql: string, ...params: SqlValue[]) => prepare(sql).all(...params) as T[],
    one: <T>(sql: string, ...params: SqlValue[]) => prepare(sql).get(...params) as T | undefined,
    run: (sql: string, ...params: SqlValue[]) => void prepare(sql).run(...params),
    script: (sql: string) => void db.exec(sql),
    transaction: <T>(fn: () => T) => db.transaction(fn)(),
    close: () => db.close(),
  };
}
