/**
 * The storage interface the branch core is written against: synchronous SQLite.
 *
 * Two implementations: Durable Object SQLite (`ctx.storage.sql`, adapters/do-sqlite.ts) in workerd,
 * and better-sqlite3 (adapters/node-sqlite.ts) for simulation and property tests in plain Node. Both
 * are SQLite, so the same SQL text runs on both.
 */
export type SqlValue = string | number | null;

export interface SqlStore {
  /** All rows of a query. Only for queries bounded by LIMIT or by construction. */
  all<T>(sql: string, ...params: SqlValue[]): T[];
  /** The first row, or undefined. */
  one<T>(sql: string, ...params: SqlValue[]): T | undefined;
  /** A statement whose rows are not needed. */
  run(sql: string, ...params: SqlValue[]): void;
  /** Several `;`-separated statements without parameters (migrations). */
  script(sql: string): void;
  /** Runs `fn` atomically: if it throws, every write inside it is rolled back. */
  transaction<T>(fn: () => T): T;
}
