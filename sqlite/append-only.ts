/**
 * SQL shared by the two SQLite sides (the branch Durable Object and the desktop), so the rules they
 * enforce in storage are the same text. Pure strings; no I/O.
 */

/** Triggers that make a table append-only (I6, I10): every UPDATE and DELETE aborts. */
export const appendOnlyTriggers = (table: string) => `
  CREATE TRIGGER ${table}_no_update BEFORE UPDATE ON ${table}
    BEGIN SELECT RAISE(ABORT, 'append_only: ${table} rows are never updated'); END;
  CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table}
    BEGIN SELECT RAISE(ABORT, 'append_only: ${table} rows are never deleted'); END;`;

/**
 * Append-only but for one sanctioned deleter (the branch's compaction, durable/core/compaction.ts):
 * every UPDATE aborts, and a DELETE aborts unless `deletableWhen` holds for its OLD row. The
 * condition must name state that only the deleter's own transaction sets (a guard row it inserts and
 * removes before it commits), so outside that transaction the table is append-only as before. A
 * condition that is NULL (a guard table empty) counts as false: the delete aborts. Replaces
 * appendOnlyTriggers' DELETE trigger of the same name (drop it first). The desktop does not use it.
 */
export const guardedDeleteTrigger = (table: string, deletableWhen: string, refusal: string) => `
  CREATE TRIGGER ${table}_no_delete BEFORE DELETE ON ${table} WHEN NOT coalesce((${deletableWhen}), 0)
    BEGIN SELECT RAISE(ABORT, 'append_only: ${table} rows are never deleted${refusal}'); END;`;
