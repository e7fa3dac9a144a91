/**
 * Reading a store's file from the side, for tests and the simulation's invariant checks: a second,
 * read-only connection on the same SQLite file, with typed reads of what the app's API does not
 * show (the queue's rows and verdict columns, the transaction log, the audit log, raw views, POS
 * facts, the layout). The SQL stays here, beside the layout it reads (migrations.ts).
 *
 * Read-only by construction (SQLite refuses any write on this connection), so an inspection can
 * never change what it checks. In WAL mode it sees every transaction committed before each read,
 * by the store's connection or any other. Rows come back as stored, not decoded: a check must be
 * able to see a damaged row, not throw on it.
 *
 * Not for the app: it asks LocalStore. To damage a file on purpose, see testing.ts.
 */
import Database from "better-sqlite3";
import type { EntityType } from "../../domain/index.js";
import type { PosFact } from "../../protocol/index.js";
import { QUEUE_AS_READ, type QueueRow } from "./context.js";
import type { PosVoidFact } from "./pos-facts.js";

/** A `sync_queue` row with its verdict columns, its state as read (`sent` while in a batch sent, with that batch's id and time: context.ts QUEUE_AS_READ). */
export interface QueueEntry extends QueueRow {
  sent_at: string | null;
  reject_code: string | null;
  reject_message: string | null;
  decided_at: string | null;
}

/** A `tx_log` row: a local write, a verdict, a quarantine… */
export interface TxLogEntry {
  id: number;
  at: string;
  kind: string;
  event_id: string | null;
  entity_type: EntityType | null;
  entity_id: string | null;
  detail: string;
}

/** An `audit` row. */
export interface AuditEntry {
  id: number;
  at: string;
  kind: string;
  detail: string;
}

/** A `view_entities` row without its body (the entity itself is `LocalStore.get`). */
export interface ViewEntry {
  entity_id: string;
  entity_type: EntityType;
  deleted: boolean;
  status: "synced" | "pending" | "rejected";
  title: string;
  updated_at: string;
}

/** The storage layout: its version (migrations.ts LAYOUT_VERSION) and the names of its indexes. */
export interface LayoutInfo {
  version: number;
  indexes: string[];
}

export class StoreInspector {
  readonly #db: Database.Database;

  private constructor(db: Database.Database) {
    this.#db = db;
  }

  /** Opens the store file at `path` (a LocalStore's `path`; the store may be open or closed). */
  static open(path: string): StoreInspector {
    return new StoreInspector(new Database(path, { readonly: true, fileMustExist: true }));
  }

  close(): void {
    this.#db.close();
  }

  /** Every queued event, in queue order, in its state as read (context.ts QUEUE_AS_READ). */
  queue(): QueueEntry[] {
    return this.#db.prepare(`${this.#queueAsRead()} ORDER BY q.position`).all() as QueueEntry[];
  }

  /** One queued event, or null. */
  queued(eventId: string): QueueEntry | null {
    return (this.#db.prepare(`${this.#queueAsRead()} WHERE q.id = ?`).get(eventId) as QueueEntry | undefined) ?? null;
  }

  /** The queue as read; a file of layout 6 or older (not yet upgraded) says each row's state itself. */
  #queueAsRead(): string {
    const batches = this.#db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sync_batches'").get();
    return batches === undefined ? "SELECT q.* FROM sync_queue q" : QUEUE_AS_READ;
  }

  /** The transaction log in order; with `eventId`, only that event's rows. */
  txLog(opts: { eventId?: string } = {}): TxLogEntry[] {
    return (
      opts.eventId === undefined
        ? this.#db.prepare("SELECT * FROM tx_log ORDER BY id").all()
        : this.#db.prepare("SELECT * FROM tx_log WHERE event_id = ? ORDER BY id").all(opts.eventId)
    ) as TxLogEntry[];
  }

  /** The audit log in order; with `kind`, only rows of that kind. */
  audit(opts: { kind?: string } = {}): AuditEntry[] {
    return (
      opts.kind === undefined
        ? this.#db.prepare("SELECT * FROM audit ORDER BY id").all()
        : this.#db.prepare("SELECT * FROM audit WHERE kind = ? ORDER BY id").all(opts.kind)
    ) as AuditEntry[];
  }

  /** Every row of the view, deleted ones included, in id order. */
  views(): ViewEntry[] {
    const rows = this.#db.prepare("SELECT entity_id, entity_type, deleted, status, title, updated_at FROM view_entities ORDER BY entity_id").all() as Array<Omit<ViewEntry, "deleted"> & { deleted: number }>;
    return rows.map((r) => ({ ...r, deleted: r.deleted === 1 }));
  }

  /** The ledger's POS orders as stored, in id order: the columns the server's `pos_orders` has. */
  posOrders(): PosFact[] {
    return this.#db
      .prepare("SELECT entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id, currency, total_minor, business_day, seq FROM pos_orders ORDER BY entity_id")
      .all() as PosFact[];
  }

  /** The ledger's POS voids as stored, in id order. */
  posVoids(): PosVoidFact[] {
    return this.#db.prepare("SELECT entity_id, seq FROM pos_voids ORDER BY entity_id").all() as PosVoidFact[];
  }

  /** Entity ids whose base is kept for open events a pull overtook (sync-apply.ts). */
  keptBases(): string[] {
    return this.#db.prepare("SELECT entity_id FROM kept_bases ORDER BY entity_id").pluck().all() as string[];
  }

  layout(): LayoutInfo {
    const version = this.#db.prepare("SELECT value FROM meta WHERE key = 'layout_version'").pluck().get() as string | undefined;
    const indexes = this.#db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    return { version: Number(version ?? 0), indexes };
  }
}

/** Opens an inspector on `path`, runs `read`, and closes it. */
export function inspectStore<T>(path: string, read: (inspector: StoreInspector) => T): T {
  const inspector = StoreInspector.open(path);
  try {
    return read(inspector);
  } finally {
    inspector.close();
  }
}
