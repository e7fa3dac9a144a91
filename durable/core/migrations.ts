/**
 * The branch Durable Object's SQLite layout, versioned.
 *
 * Bump LAYOUT_VERSION (append a migration) when: a table, column, index or trigger is added, removed
 * or changes meaning. Do not bump when: only queries change. Migrations run in one transaction at
 * start-up; a layout newer than this code refuses to start rather than guess.
 *
 * Append-only tables (I6, I10) are enforced by triggers as well as by code: `pos_orders`, `pos_voids`,
 * `audit`, `entity_versions`, `changes`, `invoice_numbers`, `rejections`, `rejection_attempts` and
 * `compacted_verdicts` reject every UPDATE and DELETE; since layout 11, `changes` and `entity_versions`
 * accept a DELETE from compaction alone (core/compaction.ts, guarded by `compaction_guard`).
 */
import type { SqlStore } from "./sql.js";
import { appendOnlyTriggers as appendOnly, guardedDeleteTrigger } from "../../sqlite/append-only.js";
import { type Migration, migrate as runMigrations } from "../../sqlite/migrate.js";
import { LEDGER_SQL } from "../../sqlite/ledger.js";

/** Exported for tests that build an older layout and migrate it. */
export const MIGRATIONS: readonly Migration[] = [
  {
    to: 1,
    sql: `
      -- Current pointer of every entity ever created (tombstones included).
      CREATE TABLE entities (
        entity_id   TEXT PRIMARY KEY,
        entity_type TEXT NOT NULL,
        version     INTEGER NOT NULL,
        deleted     INTEGER NOT NULL DEFAULT 0,
        updated_seq INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX entities_by_type ON entities (entity_type, entity_id);

      -- Immutable full entity JSON per version, split into parts because a Durable Object SQLite
      -- row holds at most 2 MB and a project with a large media selection is bigger.
      CREATE TABLE entity_versions (
        entity_id TEXT NOT NULL,
        version   INTEGER NOT NULL,
        part      INTEGER NOT NULL,
        body      TEXT NOT NULL,
        PRIMARY KEY (entity_id, version, part)
      ) WITHOUT ROWID;

      -- The branch's commit log. seq is the pull cursor (I4).
      CREATE TABLE changes (
        seq            INTEGER PRIMARY KEY,
        event_id       TEXT NOT NULL UNIQUE,
        device_id      TEXT NOT NULL,
        user_id        TEXT NOT NULL,
        entity_type    TEXT NOT NULL,
        entity_id      TEXT NOT NULL,
        operation      TEXT NOT NULL,
        changed_fields TEXT NOT NULL,
        version        INTEGER NOT NULL,
        committed_at   TEXT NOT NULL
      );

      -- Every verdict ever given, keyed by event id: the exactly-once record (I3). A rejection
      -- refers to the server entity by (id, version) because versions are immutable.
      CREATE TABLE verdicts (
        event_id       TEXT PRIMARY KEY,
        device_id      TEXT NOT NULL,
        entity_id      TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('confirmed', 'rejected')),
        seq            INTEGER,
        version        INTEGER,
        official_receipt_no INTEGER,
        code           TEXT,
        message        TEXT,
        detail         TEXT,
        server_version INTEGER,
        decided_at     TEXT NOT NULL
      ) WITHOUT ROWID;

      -- POS facts, append-only. Money is integer minor units.
      CREATE TABLE pos_orders (
        entity_id           TEXT PRIMARY KEY,
        official_receipt_no INTEGER NOT NULL UNIQUE,
        kind                TEXT NOT NULL CHECK (kind IN ('sale', 'correction')),
        corrects_order_id   TEXT,
        local_receipt_no    TEXT NOT NULL,
        device_id           TEXT NOT NULL,
        user_id             TEXT NOT NULL,
        currency            TEXT NOT NULL,
        total_minor         INTEGER NOT NULL,
        business_day        TEXT NOT NULL,
        seq                 INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE pos_voids (
        entity_id TEXT PRIMARY KEY REFERENCES pos_orders (entity_id),
        reason    TEXT NOT NULL,
        device_id TEXT NOT NULL,
        user_id   TEXT NOT NULL,
        seq       INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE audit (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        at          TEXT NOT NULL,
        kind        TEXT NOT NULL,
        device_id   TEXT,
        user_id     TEXT,
        role        TEXT,
        event_id    TEXT,
        entity_type TEXT,
        entity_id   TEXT,
        code        TEXT,
        message     TEXT NOT NULL
      );

      CREATE TABLE devices (
        device_id     TEXT PRIMARY KEY,
        user_id       TEXT NOT NULL,
        role          TEXT NOT NULL,
        app           TEXT,
        first_seen_at TEXT NOT NULL,
        last_seen_at  TEXT NOT NULL
      ) WITHOUT ROWID;

      -- Chunked uploads in progress (resumable; expired by the alarm).
      CREATE TABLE uploads (
        transfer_id TEXT PRIMARY KEY,
        device_id   TEXT NOT NULL,
        count       INTEGER NOT NULL,
        total_bytes INTEGER NOT NULL,
        sha256      TEXT NOT NULL,
        expires_at  INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE upload_chunks (
        transfer_id TEXT NOT NULL,
        idx         INTEGER NOT NULL,
        data        TEXT NOT NULL,
        PRIMARY KEY (transfer_id, idx)
      ) WITHOUT ROWID;

      ${appendOnly("pos_orders")}
      ${appendOnly("pos_voids")}
      ${appendOnly("audit")}
      ${appendOnly("entity_versions")}
      ${appendOnly("changes")}
    `,
  },
  {
    to: 2,
    sql: `
      -- Snapshots read every entity as of one seq: the latest version per entity among changes up
      -- to that seq, in entity order.
      CREATE INDEX changes_by_entity ON changes (entity_id, seq, version);
    `,
  },
  {
    to: 3,
    sql: `
      -- A device id belongs to one install (bound at its first v3 hello); a manager may revoke it.
      ALTER TABLE devices ADD COLUMN install_id TEXT;
      ALTER TABLE devices ADD COLUMN revoked_at TEXT;
      ALTER TABLE devices ADD COLUMN revoked_by TEXT;
      ALTER TABLE devices ADD COLUMN revoke_reason TEXT;
      -- The device's clock minus the server's at its last hello, ms.
      ALTER TABLE devices ADD COLUMN clock_skew_ms INTEGER;
    `,
  },
  {
    to: 4,
    sql: `
      -- One-time sign-in codes (core/enrollments.ts): only the SHA-256 of a code is kept. Used and
      -- expired rows stay a week so a till can be told "used" or "expired" rather than "wrong".
      CREATE TABLE enrollments (
        code_hash        TEXT PRIMARY KEY,
        role             TEXT NOT NULL,
        user_id          TEXT NOT NULL,
        issued_by_device TEXT NOT NULL,
        issued_by_user   TEXT NOT NULL,
        issued_at        TEXT NOT NULL,
        expires_at_ms    INTEGER NOT NULL,
        used_at          TEXT,
        used_by_device   TEXT,
        -- Wrong codes tried on the branch while this one was live; MAX_WRONG_TRIES cancels it.
        wrong_tries      INTEGER NOT NULL DEFAULT 0,
        -- Refusals of this code audited so far (used, expired, cancelled), bounded like wrong_tries.
        refusals         INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `,
  },
  {
    to: 5,
    sql: `
      -- Audit entries read back by event id (last-change.ts: the reason of the delete or void that
      -- made a rejected event's server version; conflict-resolution.ts: a manager's resolution).
      -- Without it each read scanned the audit. Queries repeat this WHERE so SQLite can use it.
      CREATE INDEX audit_by_event ON audit (event_id) WHERE kind IN ('delete', 'void', 'conflict_resolved');
    `,
  },
  {
    to: 6,
    sql: `
      -- Official invoice numbers (protocol v5): one per invoice, taken by the commit that first issues
      -- it, gap-free in commit order. Append-only, like the POS facts: a number is never reused.
      CREATE TABLE invoice_numbers (
        official_invoice_no INTEGER PRIMARY KEY,
        entity_id           TEXT NOT NULL UNIQUE,
        seq                 INTEGER NOT NULL UNIQUE
      );
      ${appendOnly("invoice_numbers")}
    `,
  },
  {
    to: 7,
    sql: `
      -- The dashboard (protocol v6). What each device last said about itself: the protocol and token
      -- of its last admitted hello, its cursor (hello, status, the since of its pulls), its queue.
      ALTER TABLE devices ADD COLUMN protocol_version INTEGER;
      ALTER TABLE devices ADD COLUMN cursor INTEGER;
      ALTER TABLE devices ADD COLUMN pending INTEGER;
      ALTER TABLE devices ADD COLUMN oldest_pending_at TEXT;
      ALTER TABLE devices ADD COLUMN reported_at TEXT;
      ALTER TABLE devices ADD COLUMN token_expires_at TEXT;
      CREATE INDEX devices_by_last_seen ON devices (last_seen_at, device_id);

      -- Every rejection decided for good, in decision order (id), written in the push's transaction
      -- beside its verdict (core/rejections.ts). The verdict stays the exactly-once record (I3); this
      -- is what the dashboard pages, filters and counts, each read from one of these indexes.
      CREATE TABLE rejections (
        id          INTEGER PRIMARY KEY,
        event_id    TEXT NOT NULL UNIQUE,
        decided_at  TEXT NOT NULL,
        device_id   TEXT NOT NULL,
        user_id     TEXT,
        entity_type TEXT,
        entity_id   TEXT NOT NULL,
        operation   TEXT,
        code        TEXT NOT NULL,
        message     TEXT NOT NULL,
        depends_on  TEXT,
        -- Why the attempted event is not in rejection_attempts, when it is not.
        attempted_note TEXT
      );
      CREATE INDEX rejections_by_device ON rejections (device_id, id);
      CREATE INDEX rejections_by_code ON rejections (code, id);
      CREATE INDEX rejections_by_type ON rejections (entity_type, id);
      CREATE INDEX rejections_by_entity ON rejections (entity_id, id);
      CREATE INDEX rejections_by_dependency ON rejections (depends_on, id) WHERE depends_on IS NOT NULL;
      -- The timeline counts per bucket, code and device from this index alone (covering).
      CREATE INDEX rejections_by_time ON rejections (decided_at, code, device_id);

      -- The attempted event as the device sent it (JSON), up to MAX_KEPT_ATTEMPT_BYTES; kept apart so
      -- the rows the dashboard pages through stay small.
      CREATE TABLE rejection_attempts (
        rejection_id INTEGER PRIMARY KEY REFERENCES rejections (id),
        body         TEXT NOT NULL
      );

      -- Rejections decided before this layout: who pushed them and what they attempted was not kept.
      INSERT INTO rejections (event_id, decided_at, device_id, user_id, entity_type, entity_id, operation, code, message, depends_on, attempted_note)
        SELECT v.event_id, v.decided_at, v.device_id, NULL,
          (SELECT e.entity_type FROM entities e WHERE e.entity_id = v.entity_id),
          v.entity_id, NULL, v.code, v.message, NULL,
          'decided before the branch kept attempted changes'
        FROM verdicts v WHERE v.status = 'rejected'
        ORDER BY v.decided_at, v.event_id;

      -- The money view: the ledger per business day, till and currency kept as running totals, updated
      -- in the commit of each POS sale, correction and void (core/ledger-days.ts), so a range of days
      -- is read as its rows instead of aggregating every order of those days per request. The same
      -- rows LEDGER_SQL computes from pos_orders and pos_voids (I6); filled from them here.
      CREATE TABLE ledger_days (
        day               TEXT NOT NULL,
        device_id         TEXT NOT NULL,
        currency          TEXT NOT NULL,
        sales_count       INTEGER NOT NULL,
        sales_minor       INTEGER NOT NULL,
        corrections_count INTEGER NOT NULL,
        corrections_minor INTEGER NOT NULL,
        voids_count       INTEGER NOT NULL,
        voids_minor       INTEGER NOT NULL,
        net_minor         INTEGER NOT NULL,
        PRIMARY KEY (day, device_id, currency)
      ) WITHOUT ROWID;
      INSERT INTO ledger_days (day, device_id, currency, sales_count, sales_minor, corrections_count, corrections_minor, voids_count, voids_minor, net_minor)
        ${LEDGER_SQL.replace("WHERE (? IS NULL OR o.business_day = ?)", "")};
      -- The money view's voids, newest first.
      CREATE INDEX pos_voids_by_seq ON pos_voids (seq);
      -- The audit view filters by kind and by device, newest first.
      CREATE INDEX audit_by_kind ON audit (kind, id);
      CREATE INDEX audit_by_device ON audit (device_id, id);

      ${appendOnly("rejections")}
      ${appendOnly("rejection_attempts")}
    `,
  },
  {
    to: 8,
    sql: `
      -- A confirmed verdict is read from its commit (core/verdicts.ts): the change row says the event,
      -- device, entity, seq and version (event_id is unique there), the POS order its receipt number,
      -- invoice_numbers its invoice number. A row of its own repeated all that and cost every commit
      -- a statement. stored_verdicts keeps the rejections, and any confirmed row its change does not
      -- vouch for word for word (none: a commit wrote both in one transaction; kept rather than lost).
      CREATE TABLE stored_verdicts (
        event_id       TEXT PRIMARY KEY,
        device_id      TEXT NOT NULL,
        entity_id      TEXT NOT NULL,
        status         TEXT NOT NULL CHECK (status IN ('confirmed', 'rejected')),
        seq            INTEGER,
        version        INTEGER,
        official_receipt_no INTEGER,
        code           TEXT,
        message        TEXT,
        detail         TEXT,
        server_version INTEGER,
        decided_at     TEXT NOT NULL
      ) WITHOUT ROWID;
      INSERT INTO stored_verdicts
        SELECT * FROM verdicts v
        WHERE v.status = 'rejected' OR NOT EXISTS (
          SELECT 1 FROM changes c LEFT JOIN pos_orders p ON p.entity_id = c.entity_id AND p.seq = c.seq
          WHERE c.event_id = v.event_id AND c.device_id = v.device_id AND c.entity_id = v.entity_id AND c.seq IS v.seq
            AND c.version IS v.version AND p.official_receipt_no IS v.official_receipt_no AND c.committed_at = v.decided_at);
      DROP TABLE verdicts;

      -- Every verdict ever given, as the table of that name held them (for readers of the whole
      -- record: the simulation's invariants, an operator's query). The branch reads them by event id
      -- (core/verdicts.ts VERDICT_BY_EVENT), one index probe per table.
      CREATE VIEW verdicts AS
        SELECT event_id, device_id, entity_id, status, seq, version, official_receipt_no, code, message, detail, server_version, decided_at
          FROM stored_verdicts
        UNION ALL
        SELECT c.event_id, c.device_id, c.entity_id, 'confirmed', c.seq, c.version, p.official_receipt_no, NULL, NULL, NULL, NULL, c.committed_at
          FROM changes c LEFT JOIN pos_orders p ON p.entity_id = c.entity_id AND p.seq = c.seq
          WHERE NOT EXISTS (SELECT 1 FROM stored_verdicts s WHERE s.event_id = c.event_id);

      -- No query reads entities by type (they are read by id, and listed in id order): the index only
      -- cost every create one more b-tree insert.
      DROP INDEX entities_by_type;
    `,
  },
  {
    to: 9,
    sql: `
      -- Leases on high-risk field groups (core/leases.ts, protocol v7): one row per group of an
      -- entity while a device holds it. A row past expires_at_ms is not in force; the alarm deletes it.
      CREATE TABLE leases (
        entity_id      TEXT NOT NULL,
        lease_group    TEXT NOT NULL,
        entity_type    TEXT NOT NULL,
        device_id      TEXT NOT NULL,
        user_id        TEXT NOT NULL,
        role           TEXT NOT NULL,
        acquired_at_ms INTEGER NOT NULL,
        expires_at_ms  INTEGER NOT NULL,
        PRIMARY KEY (entity_id, lease_group)
      ) WITHOUT ROWID;
      CREATE INDEX leases_by_expiry ON leases (expires_at_ms);
    `,
  },
  {
    to: 10,
    sql: `
      -- Deltas on the way down (protocol v9, protocol/delta.ts): an update's entity as the fields that
      -- changed since the version before it, as JSON text (an EntityDelta), when that is smaller than
      -- the entity; NULL for creates, deletes and updates whose delta would not be smaller. Live frames
      -- and pull pages send it to v9 devices in place of the entity.
      ALTER TABLE changes ADD COLUMN delta TEXT;
    `,
  },
  {
    to: 11,
    sql: `
      -- Compaction of the log (core/compaction.ts, issue 18). The exactly-once record (I3) of a commit
      -- compacted out of changes: what its change row said of its verdict. The receipt and invoice
      -- numbers stay in pos_orders and invoice_numbers, which are never compacted.
      CREATE TABLE compacted_verdicts (
        event_id  TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        entity_id TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        version   INTEGER NOT NULL
      ) WITHOUT ROWID;
      ${appendOnly("compacted_verdicts")}

      -- The one sanctioned deleter of changes and entity_versions: a compaction slice inserts its R
      -- here, deletes, and removes the row again in the same transaction, so outside it this table is
      -- empty and both tables are append-only as before. Even inside, a change above R and an entity's
      -- current version cannot be deleted. UPDATE stays forbidden.
      CREATE TABLE compaction_guard (through INTEGER NOT NULL);
      DROP TRIGGER changes_no_delete;
      DROP TRIGGER entity_versions_no_delete;
      ${guardedDeleteTrigger("changes", "OLD.seq <= (SELECT MAX(through) FROM compaction_guard)", " (but by compaction, at or below its seq)")}
      ${guardedDeleteTrigger(
        "entity_versions",
        "EXISTS (SELECT 1 FROM compaction_guard) AND OLD.version < (SELECT version FROM entities WHERE entity_id = OLD.entity_id)",
        " (but superseded versions, by compaction)",
      )}

      -- Compaction keeps every version a stored rejection names (its replay carries that entity and who
      -- made it): this index answers "does one name it?" per removed row.
      CREATE INDEX stored_rejections_by_version ON stored_verdicts (entity_id, server_version) WHERE status = 'rejected';

      -- Every verdict ever given, compacted ones included (layout 8's view, and compacted_verdicts).
      DROP VIEW verdicts;
      CREATE VIEW verdicts AS
        SELECT event_id, device_id, entity_id, status, seq, version, official_receipt_no, code, message, detail, server_version, decided_at
          FROM stored_verdicts
        UNION ALL
        SELECT c.event_id, c.device_id, c.entity_id, 'confirmed', c.seq, c.version, p.official_receipt_no, NULL, NULL, NULL, NULL, c.committed_at
          FROM changes c LEFT JOIN pos_orders p ON p.entity_id = c.entity_id AND p.seq = c.seq
          WHERE NOT EXISTS (SELECT 1 FROM stored_verdicts s WHERE s.event_id = c.event_id)
        UNION ALL
        -- decided_at is not kept for a compacted commit: NULL.
        SELECT k.event_id, k.device_id, k.entity_id, 'confirmed', k.seq, k.version, p.official_receipt_no, NULL, NULL, NULL, NULL, NULL
          FROM compacted_verdicts k LEFT JOIN pos_orders p ON p.entity_id = k.entity_id AND p.seq = k.seq;
    `,
  },
  {
    to: 12,
    sql: `
      -- The end of a business day (core/days.ts, issue 19, protocol v10). Each issue of a closed day's
      -- report: revision 1 is the close, each later one an amendment made by late POS commits for the
      -- day, in their transaction. figures is a DayFigures, changes the FiguresChange list against the
      -- revision before (domain/day-report.ts), both JSON. Append-only: a report never changes silently.
      CREATE TABLE day_revisions (
        day         TEXT NOT NULL,
        revision    INTEGER NOT NULL,
        reason      TEXT NOT NULL CHECK (reason IN ('close', 'late_pos')),
        at          TEXT NOT NULL,
        by_device   TEXT NOT NULL,
        by_user     TEXT NOT NULL,
        through_seq INTEGER NOT NULL,
        note        TEXT,
        figures     TEXT NOT NULL,
        changes     TEXT NOT NULL,
        PRIMARY KEY (day, revision)
      ) WITHOUT ROWID;
      -- A manager's count of a till's cash drawer for a day; the latest per till and currency counts.
      CREATE TABLE drawer_counts (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        day           TEXT NOT NULL,
        device_id     TEXT NOT NULL,
        currency      TEXT NOT NULL,
        counted_minor INTEGER NOT NULL,
        at            TEXT NOT NULL,
        by_device     TEXT NOT NULL,
        by_user       TEXT NOT NULL,
        note          TEXT
      );
      CREATE INDEX drawer_counts_by_till ON drawer_counts (day, device_id, currency, id);
      -- A day's orders, read by the report and the proof per till.
      CREATE INDEX pos_orders_by_day ON pos_orders (business_day, device_id, local_receipt_no);
      -- A till's latest report of its days (TillDay[] JSON, hello or status since v10) and when it came.
      ALTER TABLE devices ADD COLUMN till_days TEXT;
      ALTER TABLE devices ADD COLUMN till_days_at TEXT;
      ${appendOnly("day_revisions")}
      ${appendOnly("drawer_counts")}
    `,
  },
  {
    to: 13,
    sql: `
      -- An entity's current version is its last change's, read through changes_by_entity
      -- (entity-store.ts): compaction keeps each entity's last change. The pointer row every commit
      -- upserted said what the log already says, for a few percent of the server's CPU per pushed
      -- event (issue 16). Compaction's guard now asks the log which version is current.
      DROP TRIGGER entity_versions_no_delete;
      DROP TABLE entities;
      ${guardedDeleteTrigger(
        "entity_versions",
        "EXISTS (SELECT 1 FROM compaction_guard) AND OLD.version < (SELECT h.version FROM changes h WHERE h.entity_id = OLD.entity_id ORDER BY h.seq DESC LIMIT 1)",
        " (but superseded versions, by compaction)",
      )}
    `,
  },
  {
    to: 14,
    sql: `
      -- A depends_on_rejected verdict no longer carries the server's entity (verdicts.ts
      -- REJECTIONS_WITH_ENTITY): its dependency's rejection carried what the device needs, and a viewer
      -- pushing edit after edit on a refused one was sent the whole project with every push. Those
      -- given before carried it (their server_version is the version they carried), and a replay is
      -- the verdict as first given (I3): their ids, so they are replayed with it.
      CREATE TABLE dependents_sent_entity (event_id TEXT PRIMARY KEY) WITHOUT ROWID;
      INSERT INTO dependents_sent_entity (event_id)
        SELECT event_id FROM stored_verdicts
         WHERE status = 'rejected' AND code = 'depends_on_rejected' AND server_version IS NOT NULL;
      ${appendOnly("dependents_sent_entity")}
    `,
  },
];

/** The layout this code writes: the last migration's. */
export const LAYOUT_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.to;

/** Brings the layout up to LAYOUT_VERSION. Idempotent; cheap when already current. */
export function migrate(sql: SqlStore): void {
  runMigrations(sql, MIGRATIONS, (current, known) => `storage layout ${current} is newer than this code understands (${known}); refusing to start`);
}
