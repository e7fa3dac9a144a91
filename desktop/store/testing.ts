/**
 * TEST-ONLY: fault injection into a store's file, for tests and the simulation's "the checker can
 * fail" cases. Nothing in the app imports this. Each function damages the file the way a damaged
 * disk, an older build or a bug would, through a second connection on the same file (as another
 * process would), so the store under test is not told and must find out for itself. The SQL stays
 * in desktop/store/, beside the layout it breaks (migrations.ts); reading a file is inspect.ts.
 *
 * Writes through the second connection commit at once; in WAL mode the store's own connection sees
 * them from its next statement (a schema change, such as a trigger, re-prepares its statements).
 */
import Database from "better-sqlite3";
import type { Entity } from "../../domain/index.js";
import type { QueueRow } from "./context.js";

/** A store's file: its path, or anything that has one (a LocalStore). */
export type StoreFile = string | { readonly path: string };

function withFile<T>(store: StoreFile, act: (db: Database.Database) => T): T {
  const db = new Database(typeof store === "string" ? store : store.path, { fileMustExist: true });
  try {
    return act(db);
  } finally {
    db.close();
  }
}

/**
 * Overwrites a queued event's saved payload behind the store's back, as a damaged file or a row
 * written by an older build would leave it: the queue's append-only trigger is lifted for that one
 * statement and put back as it was, in one transaction.
 */
export function corruptQueuedPayload(store: StoreFile, eventId: string, payloadText: string): void {
  withFile(store, (db) =>
    db.transaction(() => {
      const trigger = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'sync_queue_content_fixed'").get() as { sql: string };
      db.exec("DROP TRIGGER sync_queue_content_fixed");
      const changed = db.prepare("UPDATE sync_queue SET payload_json = ? WHERE id = ?").run(payloadText, eventId).changes;
      db.exec(trigger.sql);
      if (changed !== 1) throw new Error(`no queued event ${eventId}`);
    })(),
  );
}

/**
 * Makes every insert into the transaction log fail with `message` (a full disk, say, met at the last
 * statement of a local write's transaction) until the returned function is called.
 */
export function failTxLogInserts(store: StoreFile, message: string): () => void {
  withFile(store, (db) => db.exec(`CREATE TRIGGER testing_fail_tx_log BEFORE INSERT ON tx_log BEGIN SELECT RAISE(ABORT, ${quote(message)}); END`));
  return () => withFile(store, (db) => db.exec("DROP TRIGGER IF EXISTS testing_fail_tx_log"));
}

/**
 * Changes and deletions the layout's append-only triggers must refuse (I6, I10), by name: a test
 * tries each with `tamper` and expects SQLite to say `append_only`.
 */
export const TAMPERS = {
  "update tx_log": "UPDATE tx_log SET detail = 'x'",
  "delete tx_log": "DELETE FROM tx_log",
  "update pos_orders": "UPDATE pos_orders SET total_minor = 0",
  "delete pos_orders": "DELETE FROM pos_orders",
  "delete sync_queue": "DELETE FROM sync_queue",
  "rewrite a queued payload": "UPDATE sync_queue SET payload_json = '{}'",
  "reopen a verdict": "UPDATE sync_queue SET sync_status = 'pending'",
  "delete audit": "DELETE FROM audit",
} as const;
export type Tamper = keyof typeof TAMPERS;

/** Tries one of TAMPERS on the file; throws what SQLite says when it is refused. */
export function tamper(store: StoreFile, what: Tamper): void {
  withFile(store, (db) => db.exec(TAMPERS[what]));
}

/** Replaces the stored body of a base entity (its other columns kept): a base that no longer is the server's. */
export function forgeBaseBody(store: StoreFile, entity: Entity): void {
  withFile(store, (db) => {
    const changed = db.prepare("UPDATE base_entities SET body = ? WHERE entity_id = ?").run(JSON.stringify(entity), entity.entity_id).changes;
    if (changed !== 1) throw new Error(`no base entity ${entity.entity_id}`);
  });
}

/** Inserts a queue row directly: no view, no log, no check (an event the store never wrote). */
export function forgeQueuedEvent(
  store: StoreFile,
  row: Pick<QueueRow, "id" | "entity_type" | "entity_id" | "operation" | "payload_json" | "created_at" | "sync_status">,
): void {
  withFile(store, (db) =>
    db
      .prepare("INSERT INTO sync_queue (id, entity_type, entity_id, operation, payload_json, created_at, sync_status) VALUES (?, ?, ?, ?, ?, ?, ?)")
      .run(row.id, row.entity_type, row.entity_id, row.operation, row.payload_json, row.created_at, row.sync_status),
  );
}

/** Inserts a POS void the server never recorded (the append-only triggers stop changes, not inserts). */
export function forgePosVoid(store: StoreFile, entityId: string, seq: number): void {
  withFile(store, (db) => db.prepare("INSERT INTO pos_voids (entity_id, seq) VALUES (?, ?)").run(entityId, seq));
}

/**
 * Records every write of a view row's body (an insert, or an update that sets `body`, even to the
 * same text) until the returned function is called, which says which entities' bodies were written
 * and removes the recording. For tests of what a verdict or a change rewrites.
 */
export function recordViewBodyWrites(store: StoreFile): () => string[] {
  withFile(store, (db) =>
    db.exec(`CREATE TABLE testing_view_body_writes (entity_id TEXT NOT NULL);
      CREATE TRIGGER testing_view_body_insert AFTER INSERT ON view_entities BEGIN INSERT INTO testing_view_body_writes VALUES (NEW.entity_id); END;
      CREATE TRIGGER testing_view_body_update AFTER UPDATE OF body ON view_entities BEGIN INSERT INTO testing_view_body_writes VALUES (NEW.entity_id); END;`),
  );
  return () =>
    withFile(store, (db) => {
      const ids = (db.prepare("SELECT entity_id FROM testing_view_body_writes").all() as Array<{ entity_id: string }>).map((r) => r.entity_id);
      db.exec("DROP TRIGGER testing_view_body_insert; DROP TRIGGER testing_view_body_update; DROP TABLE testing_view_body_writes;");
      return ids;
    });
}

/** Puts a closed store's file back the way layout 1 left it: migration 2 (the queue's batch index) undone. */
export function rewindToLayout1(file: string): void {
  rewindToLayout6(file);
  // Undo every migration after 1: 2 added queue_by_batch, 3 view_pos_history, 4 the conflicts' columns, 5 queue_by_type,
  // 6 pos_orders_by_day and queue_pos_days.
  withFile(file, (db) =>
    db.exec(
      `DROP INDEX queue_by_batch; DROP INDEX view_pos_history; DROP INDEX queue_by_type;
       DROP INDEX pos_orders_by_day; DROP INDEX queue_pos_days;
       ALTER TABLE conflicts DROP COLUMN last_change; ALTER TABLE conflicts DROP COLUMN base_entity;
       ALTER TABLE conflicts DROP COLUMN resolved_by; ALTER TABLE conflicts DROP COLUMN resolution_note; DROP TABLE kept_bases;
       UPDATE meta SET value = '1' WHERE key = 'layout_version'`,
    ),
  );
}

/**
 * Puts a closed store's file back the way layout 6 kept it: a pending event in a batch sent says `sent`
 * itself, with its batch's id and time, and queue_by_batch indexes them (migration 7 undone).
 */
export function rewindToLayout6(file: string): void {
  withFile(file, (db) =>
    db.exec(
      `UPDATE sync_queue SET sync_status = 'sent', batch_id = b.batch_id, sent_at = b.sent_at FROM sync_batches b
        WHERE sync_queue.sync_status = 'pending' AND sync_queue.position BETWEEN b.first_position AND b.last_position;
       DROP TABLE sync_batches;
       CREATE INDEX queue_by_batch ON sync_queue (batch_id) WHERE batch_id IS NOT NULL;
       UPDATE meta SET value = '6' WHERE key = 'layout_version'`,
    ),
  );
}

/** Stamps a closed store's file with another layout version (a file from a newer build, say). */
export function stampLayoutVersion(file: string, version: number): void {
  withFile(file, (db) => db.prepare("UPDATE meta SET value = ? WHERE key = 'layout_version'").run(String(version)));
}

const quote = (text: string) => `'${text.replace(/'/g, "''")}'`;
