/**
 * The desktop's SQLite layout, versioned.
 *
 * Bump LAYOUT_VERSION (append a migration) when: a table, column, index or trigger is added, removed
 * or changes meaning. Do not bump when: only queries change. A database newer than this code is
 * refused rather than guessed at.
 *
 * Append-only (I6, I10): `tx_log`, `pos_orders`, `pos_voids`, `audit` reject UPDATE and DELETE;
 * `sync_queue` rows are never deleted and their content never changes, only their sync status.
 *
 * A queued event's state (layout 7): `pending` until a verdict decides it (`confirmed`, `rejected`).
 * "Sent" is not written per row: a pending event whose position lies in a range of `sync_batches` (a
 * batch put together and not yet answered in full) is sent, in that batch. Every event is stamped with
 * its batch's id and time when it is decided. Rows of layouts 1-6 said `sent` themselves; layout 7
 * moved them into `sync_batches`, and nothing writes `sent` since.
 */
import type Database from "better-sqlite3";
import { appendOnlyTriggers as appendOnly } from "../../sqlite/append-only.js";
import { type Migratable, type Migration, migrate as runMigrations } from "../../sqlite/migrate.js";

export const LAYOUT_VERSION = 7;

const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    sql: `
      CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

      -- Server truth as last confirmed or pulled: the base.
      CREATE TABLE base_entities (
        entity_id   TEXT PRIMARY KEY,
        entity_type TEXT NOT NULL,
        version     INTEGER NOT NULL,
        deleted     INTEGER NOT NULL,
        body        TEXT NOT NULL
      ) WITHOUT ROWID;

      -- What the user reads: the base with this device's open events applied on top.
      -- status: synced (no open events), pending (open events), rejected (a POS sale the server
      -- refused: kept, flagged for a manager, never erased).
      CREATE TABLE view_entities (
        entity_id   TEXT PRIMARY KEY,
        entity_type TEXT NOT NULL,
        deleted     INTEGER NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('synced', 'pending', 'rejected')),
        title       TEXT NOT NULL,
        body        TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX view_by_type ON view_entities (entity_type, deleted, title);

      -- The seed's sync queue (id, entity_type, operation, payload_json, created_at, sync_status)
      -- plus what the protocol needs. position is the local order.
      CREATE TABLE sync_queue (
        position        INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT NOT NULL UNIQUE,
        entity_type     TEXT NOT NULL,
        entity_id       TEXT NOT NULL,
        operation       TEXT NOT NULL,
        payload_json    TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        sync_status     TEXT NOT NULL CHECK (sync_status IN ('pending', 'sent', 'confirmed', 'rejected')),
        base_version    INTEGER,
        depends_on      TEXT,
        batch_id        TEXT,
        sent_at         TEXT,
        seq             INTEGER,
        version         INTEGER,
        official_receipt_no INTEGER,
        reject_code     TEXT,
        reject_message  TEXT,
        decided_at      TEXT
      );
      CREATE INDEX queue_by_status ON sync_queue (sync_status, position);
      CREATE INDEX queue_by_entity ON sync_queue (entity_id, position);
      CREATE TRIGGER sync_queue_no_delete BEFORE DELETE ON sync_queue
        BEGIN SELECT RAISE(ABORT, 'append_only: sync_queue rows are never deleted'); END;
      CREATE TRIGGER sync_queue_content_fixed
        BEFORE UPDATE OF id, entity_type, entity_id, operation, payload_json, created_at, base_version, depends_on ON sync_queue
        BEGIN SELECT RAISE(ABORT, 'append_only: a queued event never changes, only its sync status'); END;
      CREATE TRIGGER sync_queue_decided_once BEFORE UPDATE OF sync_status ON sync_queue
        WHEN OLD.sync_status IN ('confirmed', 'rejected')
        BEGIN SELECT RAISE(ABORT, 'append_only: a verdict is final'); END;

      -- Append-only transaction log: every local write and every verdict.
      CREATE TABLE tx_log (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        kind        TEXT NOT NULL,
        event_id    TEXT,
        entity_type TEXT,
        entity_id   TEXT,
        detail      TEXT NOT NULL
      );

      -- POS facts as the server confirmed them: the ledger (same query as the server, LEDGER_SQL).
      CREATE TABLE pos_orders (
        entity_id           TEXT PRIMARY KEY,
        official_receipt_no INTEGER NOT NULL,
        kind                TEXT NOT NULL,
        corrects_order_id   TEXT,
        local_receipt_no    TEXT NOT NULL,
        device_id           TEXT NOT NULL,
        currency            TEXT NOT NULL,
        total_minor         INTEGER NOT NULL,
        business_day        TEXT NOT NULL,
        seq                 INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE pos_voids (entity_id TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;

      -- The conflict inbox: every rejection, in words, with both sides.
      CREATE TABLE conflicts (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id      TEXT NOT NULL UNIQUE,
        entity_type   TEXT NOT NULL,
        entity_id     TEXT NOT NULL,
        operation     TEXT NOT NULL,
        code          TEXT NOT NULL,
        message       TEXT NOT NULL,
        local_payload TEXT NOT NULL,
        server_entity TEXT,
        needs_manager INTEGER NOT NULL,
        created_at    TEXT NOT NULL,
        resolved_at   TEXT,
        resolution    TEXT
      );

      -- Local audit log: pushes, verdicts, conflicts shown and resolved, bootstraps.
      CREATE TABLE audit (
        id     INTEGER PRIMARY KEY AUTOINCREMENT,
        at     TEXT NOT NULL,
        kind   TEXT NOT NULL,
        detail TEXT NOT NULL
      );

      ${appendOnly("tx_log")}
      ${appendOnly("pos_orders")}
      ${appendOnly("pos_voids")}
      ${appendOnly("audit")}
    `,
  },
  {
    to: 2,
    // Verdicts look up the events of their batch; without this, counting a batch's open events
    // scanned every pending event, which made a long queue's push quadratic.
    sql: "CREATE INDEX queue_by_batch ON sync_queue (batch_id) WHERE batch_id IS NOT NULL;",
  },
  {
    to: 3,
    // The POS history (pos-history.ts): newest first by the instant rung up, a day's range, and the
    // receipt-number search and the total, from the index alone (it covers the title). Without it
    // every page sorted every POS order's JSON body.
    // Frozen text: a shipped migration never changes. pos-history.ts queries the same expression.
    sql: `
      CREATE INDEX view_pos_history ON view_entities (julianday(json_extract(body, '$.data.rung_at')), entity_id, title)
        WHERE entity_type = 'pos_order' AND deleted = 0;
    `,
  },
  {
    to: 4,
    // The conflict inbox in people's words (issue 14): who made the server's version, when and why
    // (the verdict's last_change, protocol v5, as JSON), the base the change was built on before
    // server truth replaced it (a deleted project's name and fields), and who resolved the entry
    // with what note (a manager's resolution comes from the server); and the base of open events
    // that a pull replaced before their verdicts came.
    // Frozen text: a shipped migration never changes.
    sql: `
      ALTER TABLE conflicts ADD COLUMN last_change TEXT;
      ALTER TABLE conflicts ADD COLUMN base_entity TEXT;
      ALTER TABLE conflicts ADD COLUMN resolved_by TEXT;
      ALTER TABLE conflicts ADD COLUMN resolution_note TEXT;
      -- The base this device's open events on an entity were built on, kept when a pulled change
      -- replaces it before their verdicts come (sync-apply.ts): the inbox shows the user's version as
      -- they made it, and a deleted project's name. A row lives only while the entity has open events.
      CREATE TABLE kept_bases (entity_id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
    `,
  },
  {
    to: 5,
    // The Sync activity view and `studiovault queue --type` (queue-read.ts): a kind of record, in send
    // order either way, and, covered, the state, so a page by kind (and state) and its total read the
    // index alone. Without it each page and each total scanned every event ever queued (rows are
    // never deleted): 1.5–2.5 s a page at 100,000 events.
    // Frozen text: a shipped migration never changes. queue-read.ts names it (INDEXED BY).
    sql: "CREATE INDEX queue_by_type ON sync_queue (entity_type, position, sync_status);",
  },
  {
    to: 6,
    // The end of a business day (issue 19, protocol v10).
    // - pos_orders_by_day: a day's figures (day-figures.ts) read that day's orders, not the ledger.
    // - queue_pos_days: this device's POS events by state, then by the instant rung up (own creates;
    //   NULL for every other event), with the entity: the till's account of its days (till-days.ts,
    //   with every status report) counts the waiting ones per day and finds, per day, whether it issued
    //   any order and the last one not refused, from ranges of this index alone. Not a partial index:
    //   a partial index's WHERE makes SQLite read each row to check it, so the kind is in the key. The
    //   CASE gives every other event NULL without reading its payload (a media selection's can be
    //   large), and a damaged payload (unreadable-queue) NULL instead of failing its write.
    // Frozen text: a shipped migration never changes. till-days.ts names the index (INDEXED BY) and
    // repeats its expression exactly.
    sql: `
      CREATE INDEX pos_orders_by_day ON pos_orders (business_day);
      CREATE INDEX queue_pos_days ON sync_queue (entity_type, sync_status,
        (CASE WHEN entity_type = 'pos_order' AND operation = 'create' AND json_valid(payload_json) THEN julianday(json_extract(payload_json, '$.rung_at')) END),
        entity_id);
    `,
  },
  {
    to: 7,
    // Batches as ranges, not a status written on every row (issue 16). Putting 200 events in a batch
    // rewrote each row and moved it in four indexes (status, kind, the till's days, the batch), about a
    // tenth of what an event cost the store. A batch takes the oldest pending events, in position order,
    // that are in no batch yet (sync-apply.ts nextBatch), so its events are the pending rows from its
    // first position to its last: one row here says it. A row lives while any event of its range is
    // pending; when the last is decided, it goes. Each event takes its batch's id and time when it is
    // decided (the activity view's "sent at"). queue_by_batch counted a batch's open events; they are
    // now a range of queue_by_status.
    // Frozen text: a shipped migration never changes.
    sql: `
      CREATE TABLE sync_batches (
        first_position INTEGER PRIMARY KEY,
        last_position  INTEGER NOT NULL,
        batch_id       TEXT NOT NULL UNIQUE,
        sent_at        TEXT NOT NULL
      );
      -- Layouts 1-6 wrote 'sent', batch_id and sent_at in one statement, so every sent row has both.
      INSERT INTO sync_batches (first_position, last_position, batch_id, sent_at)
        SELECT MIN(position), MAX(position), batch_id, MIN(sent_at) FROM sync_queue
         WHERE sync_status = 'sent' GROUP BY batch_id;
      UPDATE sync_queue SET sync_status = 'pending', batch_id = NULL, sent_at = NULL WHERE sync_status = 'sent';
      DROP INDEX queue_by_batch;
    `,
  },
];

/** Brings the layout up to LAYOUT_VERSION. Idempotent; cheap when already current. */
export function migrate(db: Database.Database): void {
  const connection: Migratable = {
    script: (sql) => void db.exec(sql),
    one: <T>(sql: string, ...params: string[]) => db.prepare(sql).get(...params) as T | undefined,
    run: (sql, ...params) => void db.prepare(sql).run(...params),
    transaction: (fn) => db.transaction(fn)(),
  };
  runMigrations(connection, MIGRATIONS, (current, known) => `this database has layout ${current}, newer than this app understands (${known}): update the app`);
}
