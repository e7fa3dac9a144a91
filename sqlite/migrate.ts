/**
 * The one migration runner of both SQLite sides (the branch Durable Object and the desktop). A
 * layout is a list of migrations, each bringing it to version `to`; the version is kept in a `meta`
 * row. All pending migrations run in one transaction; a layout newer than the code is refused
 * rather than guessed at.
 */
import { assert } from "../lib/result.js";

export interface Migration {
  to: number;
  sql: string;
}

/** What the runner needs of a connection; the branch's SqlStore has exactly this shape. */
export interface Migratable {
  script(sql: string): void;
  one<T>(sql: string, ...params: string[]): T | undefined;
  run(sql: string, ...params: string[]): void;
  transaction<T>(fn: () => T): T;
}

/**
 * Brings the layout up to the last migration's version. Idempotent; cheap when already current.
 * `tooNew` words the refusal for whoever reads it (an operator's log, a cashier's dialog).
 */
export function migrate(db: Migratable, migrations: readonly Migration[], tooNew: (current: number, known: number) => string): void {
  const latest = migrations.at(-1)?.to ?? 0;
  migrations.forEach((m, i) => assert(m.to === i + 1, `migration ${i} must bring the layout to ${i + 1}, not ${m.to}`));
  db.script("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
  const current = layoutVersion(db);
  if (current > latest) throw new Error(tooNew(current, latest));
  if (current === latest) return;
  db.transaction(() => {
    for (const m of migrations) {
      if (m.to <= current) continue;
      db.script(m.sql);
      db.run("INSERT OR REPLACE INTO meta (key, value) VALUES ('layout_version', ?)", String(m.to));
    }
  });
  assert(layoutVersion(db) === latest, `migration did not reach layout ${latest}`);
}

function layoutVersion(db: Migratable): number {
  const row = db.one<{ value: string }>("SELECT value FROM meta WHERE key = 'layout_version'");
  return row ? Number(row.value) : 0;
}
