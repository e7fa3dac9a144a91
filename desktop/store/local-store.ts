/**
 * The desktop's local store: one SQLite file (better-sqlite3, WAL) holding the confirmed base, the
 * view the user reads, the sync queue, the append-only transaction log, POS facts, the conflict
 * inbox and a local audit log. Every read is local; no method here touches the network.
 */
import Database from "better-sqlite3";
import { type Change, type ConflictResolution, type QueueReport, type Verdict } from "../../protocol/index.js";
import { keysetRows } from "../../sqlite/keyset.js";
import { LEDGER_SQL } from "../../sqlite/ledger.js";
import { type DayFigures, type DeviceId, type TillDay, type Entity, type EntityType, type LedgerRow, StudioDetails, clockIsWrong, dayIn, describeSkew, isTimeZone } from "../../domain/index.js";
import { decodeTokenUnverified } from "../../protocol/token.js";
import { err, ok, type Result } from "../../lib/result.js";
import { audit, QUEUE_AS_READ, StoreConfig, type StoreContext, timeZoneOf, WrittenEvents } from "./context.js";
import * as conflicts from "./conflicts.js";
import { type Conflict, type ConflictAction } from "./conflicts.js";
import { migrate } from "./migrations.js";
import * as rehydrate from "./rehydrate.js";
import * as sync from "./sync-apply.js";
import { RECEIPT_PENDING } from "./view.js";
import * as writes from "./writes.js";
import { newId } from "./writes.js";
import { LAST_CONFIRMED_SQL, type QueuePage, type QueueQuery, queuedEvents, queueState } from "./queue-read.js";
import { posHistory, type PosHistoryQuery } from "./pos-history.js";
import { dayFiguresOf } from "./day-figures.js";
import { tillDays } from "./till-days.js";

export interface StoreOptions {
  clockMs?: () => number;
  random?: (bytes: Uint8Array) => void;
  /**
   * normal (default): WAL with synchronous=NORMAL. A write that returned survives any crash of the
   * app (kill -9 included); only an OS crash or power cut can lose the last moments of writes. Local
   * writes stay well under 1 ms at p99. full: fsync on every commit, also safe from power loss, at
   * about 1.5-3 ms per write on the disks measured (docs in bench/local-writes.ts). fast: never
   * fsyncs (synchronous=OFF). A write that returned still survives a killed app (the OS holds it),
   * but an OS crash or power cut can lose recent writes or, SQLite warns, corrupt the file. Not for
   * a till: for the simulation (test/sim/device.ts), which models a crash as a killed process and
   * never a power cut, so fsyncs buy it nothing and cost most of each seed's run time.
   */
  durability?: "normal" | "full" | "fast";
  /**
   * The compiled better-sqlite3 addon to load instead of the one in node_modules. Electron's main
   * process passes a copy built for Electron's ABI, so the Node build used by the CLI and the tests
   * stays as it is.
   */
  nativeBinding?: string;
  /**
   * How long a statement waits for another connection's write lock before failing with "database is
   * locked" (SQLite's busy timeout), ms. Default 5 000: the CLI and the app (or two CLI processes: a
   * crew's script syncing while a cashier records) share one file and take turns; the longest write
   * transaction (a pull page, a bootstrap slice) holds the lock for milliseconds, so 5 s is only
   * reached when something is wrong. 0 fails at once.
   */
  busyTimeoutMs?: number;
}

/** StoreOptions.busyTimeoutMs when not given. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** An entity as the user sees it. */
export interface LocalEntity {
  entity: Entity;
  /** synced: equals server truth; pending: has local changes not yet confirmed; rejected: a refused POS sale kept for a manager. */
  status: "synced" | "pending" | "rejected";
  /** The official receipt number once the server assigned it (POS orders), else null. */
  official_receipt_no: number | null;
}

export { type Conflict, ConflictAction, ConflictCode } from "./conflicts.js";

export interface SyncSummary {
  pending: number;
  oldest_pending_at: string | null;
  cursor: number;
  conflicts_open: number;
  last_confirmed_at: string | null;
}

/** SQLite's `synchronous` setting for each durability (StoreOptions.durability). */
const SYNCHRONOUS = { normal: "NORMAL", full: "FULL", fast: "OFF" } as const satisfies Record<NonNullable<StoreOptions["durability"]>, string>;

/**
 * The store owns its SQLite file: its layout (migrations.ts) and every statement run on it live in
 * desktop/store/. Nothing outside asks for the connection; it asks the store. Tests read the file
 * through inspect.ts (a second, read-only connection) and damage it through testing.ts.
 */
export class LocalStore {
  readonly #statements = new Map<string, Database.Statement>();
  readonly #db: Database.Database;
  readonly #ctx: StoreContext;
  #config: StoreConfig | null = null;

  private constructor(db: Database.Database, opts: StoreOptions) {
    const clockMs = opts.clockMs ?? (() => Date.now());
    const random = opts.random ?? pooledRandom();
    this.#db = db;
    this.#ctx = {
      written: new WrittenEvents(),
      db,
      clockMs,
      random,
      stmt: (sql) => {
        let s = this.#statements.get(sql);
        if (!s) {
          s = db.prepare(sql);
          this.#statements.set(sql, s);
        }
        return s;
      },
      config: () => {
        const c = this.config();
        if (!c) throw new Error("the store is not initialised: run `studiovault init` first");
        return c;
      },
    };
  }

  static open(path: string, opts: StoreOptions = {}): LocalStore {
    const busyTimeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    const db = immediateTransactions(
      new Database(path, { timeout: busyTimeoutMs, ...(opts.nativeBinding === undefined ? {} : { nativeBinding: opts.nativeBinding }) }),
    );
    db.pragma("journal_mode = WAL");
    db.pragma(`synchronous = ${SYNCHRONOUS[opts.durability ?? "normal"]}`);
    // Checkpoints run off the write path (`checkpoint()`, from the engine's housekeeping timer and at
    // close), so a local write never pays for copying the WAL back into the database (I1, I8).
    db.pragma("wal_autocheckpoint = 0");
    db.pragma("foreign_keys = ON");
    // SQLite's page cache, 32 MiB instead of its default 2 MiB (SQLITE_DEFAULT_CACHE_SIZE). Base and
    // view rows are keyed by random ids, so a pull or a verdict touches pages all over a branch's
    // tables; with 2 MiB, a branch of 100,000 entities (~70 MB of file) reread pages from the OS on
    // nearly every row. Pulling 100,000 changes: 51-55 → 43-48 µs of CPU a change and 10-11 → 6.4-9.3 s on
    // the bench machine (64 MiB: 39 µs, 7.8 s). Memory is taken only as pages are read, so a small
    // store stays small.
    db.pragma("cache_size = -32768");
    migrate(db);
    return new LocalStore(db, opts);
  }

  close(): void {
    this.#db.close();
  }

  /** The database file (a bootstrap keeps its download beside it). */
  get path(): string {
    return this.#db.name;
  }

  /** Copies the WAL back into the database without blocking writers for long (PASSIVE). */
  checkpoint(): void {
    this.#db.pragma("wal_checkpoint(PASSIVE)");
  }

  // ───────────────────────────── configuration ─────────────────────────────

  /** Binds this store to a branch, device and server. Refuses to re-bind to another branch or device. */
  init(input: { server_url: string; token: string; time_zone?: string }): Result<StoreConfig, string> {
    const claims = decodeTokenUnverified(input.token);
    if (!claims.ok) return err(`the token is not a StudioVault device token: ${claims.error.message}`);
    let url: URL;
    try {
      url = new URL(input.server_url);
    } catch {
      return err(`server URL ${JSON.stringify(input.server_url)} is not a URL (e.g. http://127.0.0.1:8787)`);
    }
    if (!["http:", "https:"].includes(url.protocol)) return err(`server URL must be http:// or https://, received ${url.protocol}`);
    const existing = this.config();
    const c = claims.value;
    if (existing && existing.branch_id !== c.branch) {
      return err(
        `this database belongs to branch ${existing.branch_id} and the token is for branch ${c.branch}: a database keeps one branch; use another database file (--db) for ${c.branch}`,
      );
    }
    if (existing && existing.device_id !== c.device) {
      // The queue, the receipts and the install id are this device's: a token for another device
      // cannot take them over. Say how to get one for this device (issue 14: nothing said so).
      return err(
        `this database is device ${existing.device_id} and the token is for another device (${c.device}); to sign this device in again, ask a manager for a sign-in code and run \`studiovault signin --code CODE\`, or mint a token for this device with \`npm run token -- --device ${existing.device_id} …\``,
      );
    }
    if (input.time_zone !== undefined && !isTimeZone(input.time_zone)) return err(`time zone ${JSON.stringify(input.time_zone)} is not an IANA time zone (e.g. Asia/Colombo)`);
    const config: StoreConfig = {
      branch_id: c.branch,
      device_id: c.device,
      user_id: c.user,
      role: c.role,
      server_url: url.origin,
      token: input.token,
      time_zone: input.time_zone ?? existing?.time_zone ?? null,
    };
    this.#db.transaction(() => {
      this.#ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('config', ?)").run(JSON.stringify(config));
      audit(this.#ctx, existing ? "token_updated" : "initialised", `branch ${c.branch}, device ${c.device}, role ${c.role}`);
    })();
    this.#config = config;
    return ok(config);
  }

  config(): StoreConfig | null {
    if (this.#config) return this.#config;
    const row = this.#ctx.stmt("SELECT value FROM sync_state WHERE key = 'config'").get() as { value: string } | undefined;
    this.#config = row ? decodeConfig(row.value) : null;
    return this.#config;
  }

  /**
   * Records the branch's time zone as the server states it (every `welcome`). A change is audited: it
   * moves which calendar day "today" is on this till.
   */
  setTimeZone(timeZone: string): void {
    const existing = this.config();
    if (!existing || existing.time_zone === timeZone || !isTimeZone(timeZone)) return;
    const config: StoreConfig = { ...existing, time_zone: timeZone };
    this.#db.transaction(() => {
      this.#ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('config', ?)").run(JSON.stringify(config));
      audit(this.#ctx, "time_zone", `branch time zone ${existing.time_zone ?? "unknown"} → ${timeZone}`);
    })();
    this.#config = config;
  }

  /**
   * Records the studio the branch is (its name, address, phone, tax id) as the server states it in a
   * v5 `welcome`: the header of receipts and invoices this device prints, offline too.
   */
  setStudio(studio: StudioDetails): void {
    this.#ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('studio', ?)").run(JSON.stringify(studio));
  }

  /** The studio as the server last stated it; null on a device that has never connected (or a damaged row). */
  studio(): StudioDetails | null {
    const row = this.#ctx.stmt("SELECT value FROM sync_state WHERE key = 'studio'").get() as { value: string } | undefined;
    if (!row) return null;
    try {
      const studio = StudioDetails.safeParse(JSON.parse(row.value));
      return studio.success ? studio.data : null;
    } catch {
      return null;
    }
  }

  /**
   * This install's id: made once per database, never copied with a token. The server binds a device
   * id to the first install that says hello with it and refuses any other (a copied token or file).
   */
  installId(): string {
    const row = this.#ctx.stmt("SELECT value FROM sync_state WHERE key = 'install_id'").get() as { value: string } | undefined;
    if (row) return row.value;
    const id = newId(this.#ctx);
    this.#ctx.stmt("INSERT OR IGNORE INTO sync_state (key, value) VALUES ('install_id', ?)").run(id);
    return (this.#ctx.stmt("SELECT value FROM sync_state WHERE key = 'install_id'").get() as { value: string }).value;
  }

  /** Clock skew at the last `welcome`: this till's clock minus the server's, ms (null: never connected). */
  clockSkewMs(): number | null {
    const row = this.#ctx.stmt("SELECT value FROM sync_state WHERE key = 'clock_skew_ms'").get() as { value: string } | undefined;
    return row ? Number(row.value) : null;
  }

  /**
   * Records the skew measured at `welcome`. A clock that goes beyond CLOCK_SKEW_WARN_MS is audited on
   * the device too, once when it goes wrong, not at every reconnect.
   */
  recordClockSkew(skewMs: number): void {
    this.#db.transaction(() => {
      const wasWrong = clockIsWrong(this.clockSkewMs());
      this.#ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('clock_skew_ms', ?)").run(String(Math.round(skewMs)));
      if (clockIsWrong(skewMs) && !wasWrong) audit(this.#ctx, "clock_skew", `this till's clock is ${describeSkew(skewMs)} the server's`);
    })();
  }

  /** The store's clock (injected; the app, the CLI and the renderer take their time from here). */
  nowMs(): number {
    return this.#ctx.clockMs();
  }

  /** The branch's time zone (UTC until the device has first connected). */
  timeZone(): string {
    return timeZoneOf(this.config());
  }

  /** The branch's business day now: today's calendar date in the branch's time zone (I13). */
  today(): string {
    return dayIn(this.nowMs(), this.timeZone());
  }

  get deviceId(): DeviceId {
    return this.#ctx.config().device_id;
  }

  // ───────────────────────────── local writes (I1) ─────────────────────────────

  createProject = (data: Parameters<typeof writes.createProject>[1]) => writes.createProject(this.#ctx, data);
  updateProject = (id: string, patch: Parameters<typeof writes.updateProject>[2]) => writes.updateProject(this.#ctx, id, patch);
  deleteProject = (id: string, reason: string) => writes.deleteProject(this.#ctx, id, reason);
  setMediaSelection = (id: string, selection: Parameters<typeof writes.setMediaSelection>[2]) => writes.setMediaSelection(this.#ctx, id, selection);
  createInvoice = (data: Parameters<typeof writes.createInvoice>[1]) => writes.createInvoice(this.#ctx, data);
  updateInvoice = (id: string, patch: Parameters<typeof writes.updateInvoice>[2]) => writes.updateInvoice(this.#ctx, id, patch);
  voidInvoice = (id: string, reason: string) => writes.voidInvoice(this.#ctx, id, reason);
  posSale = (input: writes.SaleInput) => writes.posSale(this.#ctx, input);
  posCorrection = (originalId: string, input: Parameters<typeof writes.posCorrection>[2]) => writes.posCorrection(this.#ctx, originalId, input);
  posVoid = (id: string, reason: string) => writes.posVoid(this.#ctx, id, reason);
  /** Any write the app can make, by kind. */
  write = (action: writes.StoreWrite) => writes.write(this.#ctx, action);
  /** N writes in one local transaction, each its own queued event; all or nothing (writes.ts writeMany). */
  writeMany = (actions: readonly writes.StoreWrite[]) => writes.writeMany(this.#ctx, actions);

  // ───────────────────────────── reads (local first) ─────────────────────────────

  get(entityId: string): LocalEntity | null {
    const row = this.#ctx.stmt("SELECT body, status FROM view_entities WHERE entity_id = ?").get(entityId) as
      | { body: string; status: LocalEntity["status"] }
      | undefined;
    return row ? toLocal(row) : null;
  }

  /** Live (not deleted) entities of a type, by title, optionally filtered by a search text. */
  list(type: EntityType, opts: { search?: string; limit?: number; offset?: number } = {}): LocalEntity[] {
    const search = titlePattern(opts.search);
    const rows = this.#ctx
      .stmt(
        `SELECT body, status FROM view_entities WHERE entity_type = ? AND deleted = 0 AND title LIKE ? ESCAPE '\\'
         ORDER BY title, entity_id LIMIT ? OFFSET ?`,
      )
      .all(type, search, opts.limit ?? 100, opts.offset ?? 0) as Array<{ body: string; status: LocalEntity["status"] }>;
    return rows.map(toLocal);
  }

  /** How many entities `list` pages through for the same type and search (every page together). */
  count(type: EntityType, opts: { search?: string } = {}): number {
    const row = this.#ctx
      .stmt("SELECT COUNT(*) AS n FROM view_entities WHERE entity_type = ? AND deleted = 0 AND title LIKE ? ESCAPE '\\'")
      .get(type, titlePattern(opts.search)) as { n: number };
    return row.n;
  }

  /**
   * The POS history: orders as the user sees them (pending ones too), newest rung up first (ties by
   * id), optionally of one business day in the branch's zone and matching a receipt number, one page
   * of them and how many match (pos-history.ts: the index and what search covers).
   */
  posHistory(query: PosHistoryQuery): { items: LocalEntity[]; total: number } {
    const { rows, total } = posHistory(this.#ctx, query, this.timeZone());
    return { items: rows.map(toLocal), total };
  }

  /** Server truth as last confirmed, for convergence checks and the conflict view. */
  base(entityId: string): Entity | null {
    const row = this.#ctx.stmt("SELECT body FROM base_entities WHERE entity_id = ?").get(entityId) as { body: string } | undefined;
    return row ? (JSON.parse(row.body) as Entity) : null;
  }

  /** Every base entity, in id order, a page at a time (never the whole branch in memory, I9). */
  *baseEntities(pageSize = 500): Generator<Entity> {
    const rows = keysetRows(
      (after) => this.#ctx.stmt("SELECT entity_id, body FROM base_entities WHERE entity_id > ? ORDER BY entity_id LIMIT ?").all(after, pageSize) as Array<{ entity_id: string; body: string }>,
      (row) => row.entity_id,
    );
    for (const r of rows) yield JSON.parse(r.body) as Entity;
  }

  /** Cheap at any size: every read is an index probe or a walk of the waiting events only (queue-read.ts). */
  summary(): SyncSummary {
    const waiting = queueState(this.#ctx);
    const conflicts = this.#ctx.stmt("SELECT COUNT(*) AS n FROM conflicts WHERE resolved_at IS NULL").get() as { n: number };
    const last = this.#ctx.stmt(LAST_CONFIRMED_SQL).get() as { at: string } | undefined;
    return { pending: waiting.pending, oldest_pending_at: waiting.oldest_pending_at, cursor: this.cursor(), conflicts_open: conflicts.n, last_confirmed_at: last?.at ?? null };
  }


  /** The highest branch seq of this device's confirmed events: synced once the cursor passes it. */
  maxConfirmedSeq(): number {
    return (this.#ctx.stmt("SELECT MAX(seq) AS s FROM sync_queue WHERE sync_status = 'confirmed'").get() as { s: number | null }).s ?? 0;
  }

  /** The queued events, in local order, with their state and verdict, a page at a time, and how many match. */
  queue(query: QueueQuery = {}): QueuePage {
    return queuedEvents(this.#ctx, query);
  }

  queueCounts(): Record<"pending" | "sent" | "confirmed" | "rejected", number> {
    const counts = { pending: 0, sent: 0, confirmed: 0, rejected: 0 };
    for (const r of this.#ctx.stmt(`SELECT q.sync_status AS s, COUNT(*) AS n FROM (${QUEUE_AS_READ}) AS q GROUP BY q.sync_status`).all() as Array<{ s: keyof typeof counts; n: number }>) {
      counts[r.s] = r.n;
    }
    return counts;
  }

  conflicts(opts: { open?: boolean } = {}): Conflict[] {
    return conflicts.readConflicts(this.#ctx, opts);
  }

  /**
   * Closes a conflict with a person's choice (conflicts.ts): keep the server's version, re-apply an
   * edit on the current version, restore a deleted project or enter a refused create again as new.
   */
  resolveConflict(id: number, action: ConflictAction): Result<null, string> {
    return conflicts.resolveConflict(this.#ctx, this.#db, id, action);
  }

  /** Closes an entry kept for a manager once the server accepted the manager's resolution. */
  recordManagerResolution(id: number, resolution: ConflictResolution): Result<null, string> {
    return conflicts.recordManagerResolution(this.#ctx, id, resolution);
  }

  /** The POS ledger over server-confirmed facts: the same query as the server (I6). */
  ledger(day: string | null = null): LedgerRow[] {
    return this.#ctx.stmt(LEDGER_SQL).all(day, day) as LedgerRow[];
  }

  /**
   * The Z-report's figures of a business day (`YYYY-MM-DD`, the branch's) from this device's
   * server-confirmed POS facts and each order's payment method in the base: the same function over
   * the same facts as the branch's report, so equal to it to the minor unit once synced (day-figures.ts).
   */
  dayFigures(day: string): DayFigures {
    return dayFiguresOf(this.#ctx, day);
  }

  // ───────────────────────────── sync ─────────────────────────────

  cursor(): number {
    return sync.cursor(this.#ctx);
  }

  /**
   * The queue as this device reports it to its branch (hello and `status`, protocol v6): events
   * waiting for a verdict, and how long the first of them has waited by this device's clock (an age,
   * so a wrong clock still reports honestly; never negative if the clock went back). From the index
   * alone (queue-read.ts QUEUE_REPORT_SQL).
   */
  queueReport(): QueueReport {
    const state = queueState(this.#ctx);
    const written = state.oldest_pending_at === null ? null : Date.parse(state.oldest_pending_at);
    return { pending: state.pending, oldest_pending_age_ms: written === null ? null : Math.max(0, this.nowMs() - written) };
  }
  /**
   * The till's account of its business days (hello and `status`, protocol v10 `pos_days`): every
   * day (the branch's) it has POS events waiting for a verdict, and every day of the last
   * TILL_DAYS_WINDOW before today (`nowMs`, this device's clock) it issued receipts on, each with the
   * last receipt it issued that day that was not refused. Indexed reads only (till-days.ts).
   */
  tillDays(nowMs: number = this.nowMs()): TillDay[] {
    return tillDays(this.#ctx, nowMs, this.timeZone());
  }
  /** The seq of the snapshot this store was bootstrapped from, or null. */
  snapshotSeq(): number | null {
    return rehydrate.snapshotSeq(this.#ctx);
  }
  /**
   * Starts staging a branch snapshot (bootstrap): stage its lines, then swap them in with one
   * transaction, which also moves the cursor to the snapshot's seq (rehydrate.ts). Nothing staged
   * and swapped at seq 0 is a bootstrap from the branch as it was before its first commit: tests and
   * benches that measure pulling from 0 start a store that way, so the engine does not bootstrap.
   */
  stageSnapshot(): rehydrate.SnapshotStaging {
    return new rehydrate.SnapshotStaging(this.#ctx);
  }
  /** `inFlight`: batches sent in this session and not yet answered, which are not sent again. */
  nextBatch(maxEvents?: number, inFlight?: ReadonlySet<string>) {
    return sync.nextBatch(this.#ctx, maxEvents, inFlight);
  }
  applyVerdicts(batchId: string, verdicts: readonly Verdict[]) {
    return sync.applyVerdicts(this.#ctx, batchId, verdicts);
  }
  applyChanges(changes: readonly Change[]) {
    return sync.applyChanges(this.#ctx, changes);
  }
  audit(kind: string, detail: string): void {
    audit(this.#ctx, kind, detail);
  }
}

/**
 * Makes every `db.transaction(fn)` of this connection (the store's modules all write through it)
 * BEGIN IMMEDIATE instead of better-sqlite3's default deferred BEGIN.
 *
 * Why: a deferred transaction starts as a reader and asks for the write lock at its first write. In
 * WAL mode, if another connection committed in between, SQLite cannot upgrade the stale snapshot and
 * fails at once with SQLITE_BUSY_SNAPSHOT ("database is locked") without calling the busy handler,
 * so no busy timeout helps (sqlite.org/rescode.html#busy_snapshot, /wal.html "Sometimes Queries
 * Return SQLITE_BUSY In WAL Mode"). Most of our write transactions read first (the receipt counter,
 * the next batch, verdicts, the cursor), so a `sync` beside a `pos sale` failed. IMMEDIATE takes the
 * write lock at BEGIN, where waiting (busyTimeoutMs) works. Nested calls stay savepoints.
 */
function immediateTransactions(db: Database.Database): Database.Database {
  const deferred = db.transaction.bind(db);
  db.transaction = ((fn: (...args: never[]) => unknown) => deferred(fn).immediate) as Database.Database["transaction"];
  return db;
}

/**
 * Cryptographic randomness served from a pool refilled 4 KiB at a time. Every write takes 16 bytes
 * for its event id (and 16 more for a new entity's id); one getRandomValues call per id cost more
 * than the rest of the id (about 14 µs a call measured under load, 2 per create in a bulk import),
 * while one call per 256 ids costs nothing per id. The bytes are as random either way.
 */
function pooledRandom(): (bytes: Uint8Array) => void {
  const pool = new Uint8Array(4_096);
  let used = pool.length;
  return (bytes) => {
    if (bytes.length > pool.length) return void crypto.getRandomValues(bytes);
    if (used + bytes.length > pool.length) {
      crypto.getRandomValues(pool);
      used = 0;
    }
    bytes.set(pool.subarray(used, used + bytes.length));
    used += bytes.length;
  };
}

/** The stored config, decoded; a config that no longer decodes is a damaged file, said plainly. */
function decodeConfig(text: string): StoreConfig {
  const parsed = StoreConfig.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`this store's configuration is damaged (${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message}); run \`studiovault init\` again`);
  return parsed.data;
}


function toLocal(row: { body: string; status: LocalEntity["status"] }): LocalEntity {
  const entity = JSON.parse(row.body) as Entity;
  const receipt = entity.entity_type === "pos_order" && entity.official_receipt_no !== RECEIPT_PENDING ? entity.official_receipt_no : null;
  return { entity, status: row.status, official_receipt_no: receipt };
}

/** A LIKE pattern for titles containing `search` (case-insensitive; %, _ and \ taken literally). */
const titlePattern = (search: string | undefined) => `%${(search ?? "").toLowerCase().replace(/[%_\\]/g, (c) => `\\${c}`)}%`;
