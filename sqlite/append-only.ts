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
