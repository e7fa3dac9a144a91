/**
 * Rehydrating the store from a branch snapshot (bootstrap, DESIGN §5): the store's half of it. The
 * sync side (desktop/sync/bootstrap.ts) downloads and verifies the snapshot and reads its lines; what
 * they become in this database is decided here.
 *
 *   begin (TEMP staging tables) → stage a slice per transaction (the base, then each increment of
 *   its chain in order) → swap in ONE transaction.
 *
 * The store is never half-bootstrapped: until the swap, nothing outside the TEMP tables moves, so a
 * failure anywhere before it leaves the store exactly as it was. Queued local events are never
 * touched: the swap keeps them and rebuilds their entities' views on top of the new base.
 */
import { keysetRows } from "../../sqlite/keyset.js";
import type { Entity, EntityId } from "../../domain/index.js";
import type { PosFact } from "../../protocol/index.js";
import { audit, nowIso, type StoreContext } from "./context.js";
import { recordPosOrder, recordPosVoid } from "./pos-facts.js";
import { setCursor } from "./sync-apply.js";
import { refreshOpenViews, viewTitle } from "./view.js";

/** One line of a snapshot, checked by the caller, as it is staged. */
export type SnapshotItem =
  | { kind: "entity"; entity: Entity }
  | { kind: "pos_order"; fact: PosFact }
  | { kind: "pos_void"; entity_id: EntityId; seq: number };

/** Staged facts are copied into the ledger a page at a time (never the whole branch in memory, I9). */
const COPY_PAGE_ROWS = 500;

export function snapshotSeq(ctx: StoreContext): number | null {
  const row = ctx.stmt("SELECT value FROM sync_state WHERE key = 'snapshot_seq'").get() as { value: string } | undefined;
  return row ? Number(row.value) : null;
}

export function setSnapshotSeq(ctx: StoreContext, seq: number): void {
  ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('snapshot_seq', ?)").run(String(seq));
}

/**
 * A snapshot being staged. TEMP tables belong to this connection only and vanish with it; their
 * statements are prepared here, not in the store's statement cache, since the tables are dropped
 * after every bootstrap.
 */
export class SnapshotStaging {
  readonly #ctx: StoreContext;
  #done = false;

  constructor(ctx: StoreContext) {
    this.#ctx = ctx;
    ctx.db.exec(`
      DROP TABLE IF EXISTS temp.staged_entities;
      DROP TABLE IF EXISTS temp.staged_pos_orders;
      DROP TABLE IF EXISTS temp.staged_pos_voids;
      CREATE TEMP TABLE staged_entities (entity_id TEXT PRIMARY KEY, entity_type TEXT NOT NULL, version INTEGER NOT NULL,
        deleted INTEGER NOT NULL, title TEXT NOT NULL, body TEXT NOT NULL) WITHOUT ROWID;
      CREATE TEMP TABLE staged_pos_orders (entity_id TEXT PRIMARY KEY, official_receipt_no INTEGER, kind TEXT, corrects_order_id TEXT,
        local_receipt_no TEXT, device_id TEXT, currency TEXT, total_minor INTEGER, business_day TEXT, seq INTEGER) WITHOUT ROWID;
      CREATE TEMP TABLE staged_pos_voids (entity_id TEXT PRIMARY KEY, seq INTEGER) WITHOUT ROWID;`);
  }

  /**
   * Stages one slice in one transaction. `items` may be lazy (a generator that checks each line as it
   * is read): whatever it throws rolls its slice back and reaches the caller unchanged.
   *
   * `link` is which link of a snapshot chain the slice comes from (protocol/snapshot.ts): a base is
   * staged first, then each increment in chain order, and an entity of an increment replaces the one
   * staged before it (its newer version). POS facts and voids are only ever added: one that is staged
   * twice is a broken chain, and the insert fails.
   */
  stage(items: Iterable<SnapshotItem>, link: "base" | "increment" = "base"): void {
    this.#assertOpen();
    const db = this.#ctx.db;
    const stageEntity = db.prepare(`${link === "base" ? "INSERT" : "INSERT OR REPLACE"} INTO temp.staged_entities VALUES (?, ?, ?, ?, ?, ?)`);
    const stagePos = db.prepare("INSERT INTO temp.staged_pos_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    const stageVoid = db.prepare("INSERT INTO temp.staged_pos_voids VALUES (?, ?)");
    db.transaction(() => {
      for (const item of items) {
        switch (item.kind) {
          case "entity": {
            const e = item.entity;
            stageEntity.run(e.entity_id, e.entity_type, e.version, e.deleted ? 1 : 0, viewTitle(e), JSON.stringify(e));
            break;
          }
          case "pos_order": {
            const f = item.fact;
            stagePos.run(f.entity_id, f.official_receipt_no, f.kind, f.corrects_order_id, f.local_receipt_no, f.device_id, f.currency, f.total_minor, f.business_day, f.seq);
            break;
          }
          case "pos_void":
            stageVoid.run(item.entity_id, item.seq);
            break;
        }
      }
    })();
  }

  /**
   * Swaps the staged branch in, in ONE transaction: base and view replaced, POS facts added (through
   * pos-facts.ts, the one way facts are written), cursor and snapshot seq moved to `seq`, views of
   * open local events rebuilt on top, and `auditDetail` audited. The staging is gone afterwards.
   */
  swap(seq: number, auditDetail: string): void {
    this.#assertOpen();
    const ctx = this.#ctx;
    const db = ctx.db;
    const swappedAt = nowIso(ctx);
    const posPage = db.prepare("SELECT * FROM temp.staged_pos_orders WHERE entity_id > ? ORDER BY entity_id LIMIT ?");
    const voidPage = db.prepare("SELECT entity_id, seq FROM temp.staged_pos_voids WHERE entity_id > ? ORDER BY entity_id LIMIT ?");
    db.transaction(() => {
      db.exec(`
        DELETE FROM base_entities;
        INSERT INTO base_entities (entity_id, entity_type, version, deleted, body)
          SELECT entity_id, entity_type, version, deleted, body FROM temp.staged_entities;
        DELETE FROM view_entities;`);
      db.prepare(
        `INSERT INTO view_entities (entity_id, entity_type, deleted, status, title, body, updated_at)
           SELECT entity_id, entity_type, deleted, 'synced', title, body, ? FROM temp.staged_entities`,
      ).run(swappedAt);
      // Staged rows were decoded (PosFact, EntityId) by the caller before they were staged.
      for (const fact of pages<PosFact>(posPage)) recordPosOrder(ctx, fact);
      for (const v of pages<{ entity_id: EntityId; seq: number }>(voidPage)) recordPosVoid(ctx, v);
      setCursor(ctx, seq);
      setSnapshotSeq(ctx, seq);
      refreshOpenViews(ctx);
      audit(ctx, "bootstrap", auditDetail);
    })();
    this.discard();
  }

  /** Drops the staging (after a swap, or when the bootstrap gives up). Safe to call twice. */
  discard(): void {
    if (this.#done) return;
    this.#done = true;
    // A store closed mid-bootstrap (the app quit) took its TEMP tables with it.
    if (this.#ctx.db.open) this.#ctx.db.exec("DROP TABLE IF EXISTS temp.staged_entities; DROP TABLE IF EXISTS temp.staged_pos_orders; DROP TABLE IF EXISTS temp.staged_pos_voids;");
  }

  #assertOpen(): void {
    if (this.#done) throw new Error("this snapshot staging was already swapped in or discarded");
  }
}

/** Every row of a keyset-paged statement `(after entity_id, limit)`, one page in memory at a time. */
const pages = <Row extends { entity_id: string }>(page: { all(after: string, limit: number): unknown[] }): Generator<Row> =>
  keysetRows((after) => page.all(after, COPY_PAGE_ROWS) as Row[], (row) => row.entity_id);
