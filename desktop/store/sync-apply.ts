/**
 * The sync side of the store: what to push next, and applying verdicts and server changes.
 *
 * The queue row is the source of truth across crashes: an event is `pending` until a verdict decides
 * it. Putting it in a batch writes one `sync_batches` row for the batch's range of positions, in the
 * same transaction (migrations.ts, layout 7), and that is what makes it sent. After a crash, the
 * unanswered batches are sent again with the same ids (the server answers with the stored verdicts,
 * I3), and a verdict lost for good is recovered from the change stream, which names the event id of
 * every commit.
 *
 * A row that cannot be read back (not JSON any more, or no longer valid) never stops the rest: it
 * is quarantined (reject.ts) when a batch would take it, and the batch goes on without it.
 */
import { applyEvent, type Entity, type SyncEvent } from "../../domain/index.js";
import { type Change, type ConfirmedVerdict, FRAME_LIMIT_BYTES, type LastChange, MAX_BATCH_EVENTS, utf8ByteLength, type Verdict } from "../../protocol/index.js";
import { audit, eventText, log, logMany, nowIso, type QueueRow, readQueued, STAMP_BATCH, type StoreContext } from "./context.js";
import { recordCommittedPos } from "./pos-facts.js";
import { quarantine, rejectRow } from "./reject.js";
import { readBase, refreshView, upsertViewText, writeBase, writeBaseText } from "./view.js";
import { newId } from "./writes.js";

export interface Batch {
  batch_id: string;
  events: SyncEvent[];
  /** Each event's JSON text, in order (context.ts eventText): what the push frame carries. */
  texts: string[];
}

/** Room for the push envelope around the events of a batch that should fit one frame. */
const BATCH_ENVELOPE_BYTES = 200;

/**
 * The next batch to push: an unanswered batch first (same id, same events), else up to
 * MAX_BATCH_EVENTS pending events that fit one frame (at least one event, which may need chunks).
 * Rows that cannot be read back are quarantined on the way, in the same transaction.
 */
export function nextBatch(ctx: StoreContext, maxEvents = MAX_BATCH_EVENTS, inFlight: ReadonlySet<string> = new Set()): Batch | null {
  return ctx.db.transaction((): Batch | null => {
    const batches = ctx.stmt("SELECT first_position, last_position, batch_id FROM sync_batches ORDER BY first_position").all() as BatchRange[];
    for (const batch of batches) {
      if (inFlight.has(batch.batch_id)) continue;
      // The same id again, without what was decided or quarantined since: the server answers each event on its own (I3).
      const readable = readableEvents(ctx, pendingIn(ctx, batch), true);
      if (readable.length > 0) return { batch_id: batch.batch_id, events: readable.map((r) => r.event), texts: readable.map((r) => r.text) };
      // Every event of it was decided without its verdicts (quarantined, rejected with an event it
      // depends on, or its commit pulled): nothing is left to ask.
      ctx.stmt("DELETE FROM sync_batches WHERE batch_id = ?").run(batch.batch_id);
    }
    // Batches take the oldest pending events, so every pending event up to the last batch's end is in one (SENT_THROUGH).
    const after = batches.at(-1)?.last_position ?? 0;
    for (;;) {
      const rows = ctx
        .stmt("SELECT * FROM sync_queue INDEXED BY queue_by_status WHERE sync_status = 'pending' AND position > ? ORDER BY position LIMIT ?")
        .all(after, maxEvents) as QueueRow[];
      if (rows.length === 0) return null;
      const events: SyncEvent[] = [];
      const texts: string[] = [];
      let first = 0;
      let last = 0;
      let bytes = BATCH_ENVELOPE_BYTES;
      for (const { row, event, text } of readableEvents(ctx, rows, false)) {
        const size = utf8ByteLength(text) + 1;
        if (events.length > 0 && bytes + size > FRAME_LIMIT_BYTES) break;
        events.push(event);
        texts.push(text);
        if (first === 0) first = row.position;
        last = row.position;
        bytes += size;
      }
      if (events.length === 0) continue; // every row read was quarantined: take the next ones
      const batch_id = newId(ctx);
      // Its events are the pending rows from `first` to `last`: the rows in between that are not in it
      // were quarantined on the way, which decided them.
      ctx.stmt("INSERT INTO sync_batches (first_position, last_position, batch_id, sent_at) VALUES (?, ?, ?, ?)").run(first, last, batch_id, nowIso(ctx));
      audit(ctx, "push", `batch ${batch_id}: ${events.length} event(s)`);
      return { batch_id, events, texts };
    }
  })();
}

/** A batch put together and not yet answered in full: the range of queue positions it took (layout 7). */
interface BatchRange {
  first_position: number;
  last_position: number;
  batch_id: string;
}

/** The events of `batch` still waiting for a verdict, in order. */
function pendingIn(ctx: StoreContext, batch: BatchRange): QueueRow[] {
  return ctx
    .stmt("SELECT * FROM sync_queue INDEXED BY queue_by_status WHERE sync_status = 'pending' AND position BETWEEN ? AND ? ORDER BY position")
    .all(batch.first_position, batch.last_position) as QueueRow[];
}

/** How many events of batch `batchId` still wait for a verdict; when none does, the batch is done and its row goes. */
function stillOpenIn(ctx: StoreContext, batchId: string): number {
  const batch = ctx.stmt("SELECT first_position, last_position, batch_id FROM sync_batches WHERE batch_id = ?").get(batchId) as BatchRange | undefined;
  if (batch === undefined) return 0;
  const { n } = ctx
    .stmt("SELECT COUNT(*) AS n FROM sync_queue INDEXED BY queue_by_status WHERE sync_status = 'pending' AND position BETWEEN ? AND ?")
    .get(batch.first_position, batch.last_position) as { n: number };
  if (n === 0) ctx.stmt("DELETE FROM sync_batches WHERE batch_id = ?").run(batchId);
  return n;
}

/**
 * The rows' wire events, in order, quarantining each row that cannot be read back (and, with it, the
 * later rows built on it). `sent`: the rows are an unanswered batch's, sent before. Call inside a transaction.
 */
function readableEvents(ctx: StoreContext, rows: readonly QueueRow[], sent: boolean): Array<{ row: QueueRow; event: SyncEvent; text: string }> {
  const out: Array<{ row: QueueRow; event: SyncEvent; text: string }> = [];
  const decided = new Set<string>();
  const deviceId = ctx.config().device_id;
  for (const row of rows) {
    if (decided.has(row.id)) continue;
    // Either way the event's payload was parsed from the row's text, so that text is its payload's.
    const written = ctx.written.take(row, deviceId);
    if (written !== null) {
      out.push({ row, event: written, text: eventText(written, row.payload_json) });
      continue;
    }
    const read = readQueued(ctx, row);
    if (read.ok) {
      out.push({ row, event: read.value.event, text: eventText(read.value.event, row.payload_json) });
      continue;
    }
    for (const id of quarantine(ctx, row, read.error, readBase(ctx, row.entity_id), sent)) decided.add(id);
    refreshView(ctx, row.entity_id);
  }
  return out;
}

export interface VerdictSummary {
  confirmed: number;
  rejected: number;
  /** Events of `batchId` still without a verdict. */
  open_in_batch: number;
  /** The cursor after the verdicts (moved over this device's own commits whose results it now holds). */
  cursor: number;
  /**
   * A confirmed commit of these verdicts lies above the cursor still: its result is not held (it could
   * not be folded) or a commit below it has not arrived. A connection that said `echo: false` is not
   * sent it in `live`, so it must pull.
   */
  behind: boolean;
}

/** A verdict's queue row (what a set needs of it), with what decides whether its confirmation can be applied as a set. */
interface VerdictRow extends Pick<QueueRow, "id" | "entity_type" | "entity_id" | "sync_status"> {
  /** How many events on the row's entity wait for a verdict, this one included. */
  open_on_entity: number;
  base_version_now: number | null;
  view_status: string | null;
  view_version: number | null;
}

/**
 * Applies verdicts in one transaction. Verdicts for events already decided are ignored.
 *
 * Set-based: the batch's rows are read in one statement, and the common verdict — a project or
 * invoice event confirmed as the only open event on its entity, right on top of the base — is
 * applied with a few statements for the whole batch (`confirmAsSet`). Everything else (POS orders,
 * numbered invoices, entities with other open events, a base that moved, rejections) goes one by
 * one through `confirm` and `reject`, as before.
 */
export function applyVerdicts(ctx: StoreContext, batchId: string, verdicts: readonly Verdict[]): VerdictSummary {
  return ctx.db.transaction((): VerdictSummary => {
    const rows = new Map<string, VerdictRow>();
    const read = ctx.stmt(
      `SELECT q.id, q.entity_type, q.entity_id, q.sync_status,
         (SELECT COUNT(*) FROM sync_queue o WHERE o.entity_id = q.entity_id AND o.sync_status = 'pending') AS open_on_entity,
         b.version AS base_version_now, v.status AS view_status, v.body ->> '$.version' AS view_version
       FROM json_each(?) AS j
       JOIN sync_queue q ON q.id = j.value
       LEFT JOIN base_entities b ON b.entity_id = q.entity_id
       LEFT JOIN view_entities v ON v.entity_id = q.entity_id`,
    );
    for (const row of read.all(JSON.stringify(verdicts.map((v) => v.event_id))) as VerdictRow[]) rows.set(row.id, row);
    const asSet: Array<{ row: VerdictRow; verdict: ConfirmedVerdict }> = [];
    const oneByOne: Verdict[] = [];
    for (const verdict of verdicts) {
      const row = rows.get(verdict.event_id);
      if (!row || row.sync_status === "confirmed" || row.sync_status === "rejected") continue;
      rows.delete(verdict.event_id); // a second verdict for the same event is ignored, as a decided event's
      if (verdict.status === "confirmed" && confirmsAsSet(row, verdict)) asSet.push({ row, verdict });
      else oneByOne.push(verdict);
    }
    confirmAsSet(ctx, asSet);
    // The seqs of the commits whose results the base now holds: the cursor may move over them.
    const held = asSet.map(({ verdict }) => verdict.seq);
    let highest = 0;
    for (const verdict of verdicts) if (verdict.status === "confirmed") highest = Math.max(highest, verdict.seq);
    let confirmed = asSet.length;
    let rejected = 0;
    for (const verdict of oneByOne) {
      // Read again: an earlier rejection in this batch may have rejected it as a dependent.
      const row = ctx.stmt("SELECT * FROM sync_queue WHERE id = ?").get(verdict.event_id) as QueueRow | undefined;
      if (!row || row.sync_status === "confirmed" || row.sync_status === "rejected") continue;
      if (verdict.status === "confirmed") {
        if (confirm(ctx, row, verdict.seq, verdict.version, verdict.official_receipt_no, verdict.official_invoice_no)) held.push(verdict.seq);
        confirmed++;
      } else {
        reject(ctx, row, verdict.code, verdict.message, verdict.server_entity, verdict.last_change ?? null);
        rejected++;
      }
    }
    const open = stillOpenIn(ctx, batchId);
    const at = cursorOver(ctx, held);
    return { confirmed, rejected, open_in_batch: open, cursor: at, behind: highest > at };
  })();
}

/**
 * Moves the cursor over this device's own commits whose results the base holds (`held`, their seqs),
 * as far as they continue it, in the same transaction that folded them: the cursor means "every commit
 * up to here is applied", and each of these is, exactly as its change would have applied it. Commits
 * are numbered in order on one socket, so the verdicts of a push follow every earlier commit the device
 * was sent; one that does not continue the cursor (an earlier commit still on its way in a pull) leaves
 * it where it is, and the change stream brings the rest. Call inside a transaction.
 */
function cursorOver(ctx: StoreContext, held: number[]): number {
  let at = cursor(ctx);
  const from = at;
  for (const seq of held.sort((a, b) => a - b)) {
    if (seq <= at) continue;
    if (seq !== at + 1) break;
    at = seq;
  }
  if (at !== from) setCursor(ctx, at);
  return at;
}

/**
 * Whether a confirmation's result is already in the view, byte for byte: the event is the only open
 * one on its entity, the base is its predecessor, and the view is that base with this event folded
 * in (its version is the verdict's). Then the server's result — the same applyEvent on the same base
 * — equals the view, except where the commit info reaches the entity, which the view cannot know:
 * a POS order's official receipt number and a void's seq, and an invoice's official number. Those go
 * one by one. An event the view left out (it did not apply, or could not be read) fails the version
 * test, so it goes one by one too.
 */
function confirmsAsSet(row: VerdictRow, verdict: ConfirmedVerdict): boolean {
  const numbered = row.entity_type === "pos_order" || (row.entity_type === "invoice" && verdict.official_invoice_no !== null);
  return (
    !numbered &&
    verdict.entity_id === row.entity_id &&
    verdict.official_receipt_no === null &&
    row.open_on_entity === 1 &&
    (row.base_version_now ?? 0) === verdict.version - 1 &&
    row.view_status === "pending" &&
    row.view_version === verdict.version
  );
}

/**
 * Confirms events whose result is their entity's view (`confirmsAsSet`), in five statements for
 * the whole set: the queue rows take their verdicts; the base becomes the view's body (copied by
 * SQLite, never parsed or stringified here); the view only changes status (its body is already
 * right); kept bases go (no open event is left on these entities); one log row each.
 */
function confirmAsSet(ctx: StoreContext, set: ReadonlyArray<{ row: VerdictRow; verdict: ConfirmedVerdict }>): void {
  if (set.length === 0) return;
  const at = nowIso(ctx);
  const decided = JSON.stringify(set.map(({ verdict }) => [verdict.event_id, verdict.seq, verdict.version]));
  const entities = JSON.stringify(set.map(({ row }) => row.entity_id));
  ctx
    .stmt(
      `UPDATE sync_queue SET sync_status = 'confirmed', seq = d.value ->> 1, version = d.value ->> 2, official_receipt_no = NULL, decided_at = ?, ${STAMP_BATCH}
       FROM json_each(?) AS d WHERE sync_queue.id = d.value ->> 0`,
    )
    .run(at, decided);
  // WHERE true: SQLite's parser needs it between a SELECT and an upsert's ON CONFLICT.
  ctx
    .stmt(
      `INSERT INTO base_entities (entity_id, entity_type, version, deleted, body)
         SELECT v.entity_id, v.entity_type, v.body ->> '$.version', v.deleted, v.body FROM json_each(?) AS e JOIN view_entities v ON v.entity_id = e.value WHERE true
       ON CONFLICT (entity_id) DO UPDATE SET version = excluded.version, deleted = excluded.deleted, body = excluded.body
       WHERE excluded.version > base_entities.version`,
    )
    .run(entities);
  ctx.stmt("UPDATE view_entities SET status = 'synced', updated_at = ? WHERE entity_id IN (SELECT value FROM json_each(?))").run(at, entities);
  ctx.stmt("DELETE FROM kept_bases WHERE entity_id IN (SELECT value FROM json_each(?))").run(entities);
  logMany(
    ctx,
    "confirmed",
    set.map(({ row, verdict }) => [row.id, row.entity_type, row.entity_id, `seq ${verdict.seq}, version ${verdict.version}`] as const),
  );
}

/**
 * The one way a queue row becomes confirmed: by its verdict (`confirm`) or, when the verdict was lost,
 * by its commit in the change stream (`applyChanges`). A verdict is final (a trigger refuses a second).
 */
function markConfirmed(ctx: StoreContext, row: QueueRow, seq: number, version: number, receipt: number | null): void {
  ctx
    .stmt(`UPDATE sync_queue SET sync_status = 'confirmed', seq = ?, version = ?, official_receipt_no = ?, decided_at = ?, ${STAMP_BATCH} WHERE id = ?`)
    .run(seq, version, receipt, nowIso(ctx), row.id);
}

/**
 * `invoiceNo`: the official number the server gave the invoice this event issued (protocol v5), else
 * null. Returns whether the base now holds the commit's result (the event was folded into it).
 */
function confirm(ctx: StoreContext, row: QueueRow, seq: number, version: number, receipt: number | null, invoiceNo: number | null): boolean {
  markConfirmed(ctx, row, seq, version, receipt);
  // Fold the event into the base if the base is exactly its predecessor: the server applied the same
  // function to the same entity, so this is the server's result. Otherwise the change stream brings it.
  const base = readBase(ctx, row.entity_id);
  let folded: Entity | undefined;
  // A row that cannot be read back any more is not folded: the change stream brings the server's result.
  const read = readQueued(ctx, row);
  if (read.ok && (base?.version ?? 0) === version - 1) {
    const { device_id, user_id } = ctx.config();
    const next = applyEvent(base, read.value.typed, { version, seq, device_id, user_id, official_receipt_no: receipt, official_invoice_no: invoiceNo });
    if (next.ok && writeBase(ctx, next.value)) {
      recordCommittedPos(ctx, next.value, row.operation, device_id, seq);
      folded = next.value;
    }
  }
  releaseKeptBase(ctx, row.entity_id);
  refreshView(ctx, row.entity_id, folded);
  log(ctx, "confirmed", `seq ${seq}, version ${version}${receipt ? `, official receipt ${receipt}` : ""}${invoiceNo ? `, invoice no. ${invoiceNo}` : ""}`, row);
  return folded !== undefined;
}

function reject(ctx: StoreContext, row: QueueRow, code: string, message: string, serverEntity: Entity | null, lastChange: LastChange | null): void {
  // The base the change was built on, before server truth replaced it (here, or earlier by a pull):
  // the inbox keeps it (a deleted project's name and fields would otherwise be gone from this device).
  const base = keptBase(ctx, row.entity_id) ?? readBase(ctx, row.entity_id);
  // Server wins (I7): the entity goes back to server truth.
  if (serverEntity) writeBase(ctx, serverEntity);
  // The inbox shows the server's side: the entity the verdict brought or, when it brought none
  // (protocol v3 sends it only where the copy must move, and once per push), this device's copy of
  // server truth, which is the same. Later local events built on this one are rejected the same way.
  const serverSide = serverEntity ?? readBase(ctx, row.entity_id);
  rejectRow(ctx, row, code, message, serverSide, serverSide, { lastChange, base });
  releaseKeptBase(ctx, row.entity_id);
  refreshView(ctx, row.entity_id);
}

/**
 * Before a pulled change replaces an entity's base while this device has open events on it (other
 * than the change's own), keeps the base they were built on, once (the oldest wins): if they are
 * rejected, the inbox shows the user's version as they made it. Released when no open event is left.
 */
function keepBaseOfOpenEvents(ctx: StoreContext, entityId: string, changeEventId: string): void {
  const open = ctx.stmt("SELECT 1 AS o FROM sync_queue WHERE entity_id = ? AND sync_status = 'pending' AND id <> ? LIMIT 1").get(entityId, changeEventId);
  if (!open) return;
  const base = readBase(ctx, entityId);
  if (base) ctx.stmt("INSERT OR IGNORE INTO kept_bases (entity_id, body) VALUES (?, ?)").run(entityId, JSON.stringify(base));
}

function keptBase(ctx: StoreContext, entityId: string): Entity | null {
  const row = ctx.stmt("SELECT body FROM kept_bases WHERE entity_id = ?").get(entityId) as { body: string } | undefined;
  return row ? (JSON.parse(row.body) as Entity) : null;
}

function releaseKeptBase(ctx: StoreContext, entityId: string): void {
  const open = ctx.stmt("SELECT 1 AS o FROM sync_queue WHERE entity_id = ? AND sync_status = 'pending' LIMIT 1").get(entityId);
  if (!open) ctx.stmt("DELETE FROM kept_bases WHERE entity_id = ?").run(entityId);
}

export function cursor(ctx: StoreContext): number {
  const row = ctx.stmt("SELECT value FROM sync_state WHERE key = 'cursor'").get() as { value: string } | undefined;
  return row ? Number(row.value) : 0;
}

/** Moves the cursor: with the changes it covers (`applyChanges`), or to a snapshot's seq (rehydrate.ts). */
export function setCursor(ctx: StoreContext, seq: number): void {
  ctx.stmt("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('cursor', ?)").run(String(seq));
}

/**
 * Applies consecutive server changes in one transaction and moves the cursor with them. Stops at
 * the first change that does not continue the cursor (returns how many were applied).
 *
 * Which entities have open local events, and the base version of each, are read once for the slice
 * (two statements). A change on an entity with no open event is then either already in the base
 * (this device's own commit, folded in by its verdict, coming back: nothing to do but a POS fact) or
 * server truth that replaces base and view together, one JSON text for both. Only changes on
 * entities with open events take the full path (`applyOnOpenEntity`): kept bases, a lost verdict
 * recovered, the view folded again.
 */
export function applyChanges(ctx: StoreContext, changes: readonly Change[]): { applied: number; cursor: number } {
  return ctx.db.transaction(() => {
    let at = cursor(ctx);
    const ids = JSON.stringify([...new Set(changes.map((c) => c.entity_id))]);
    // By entity (queue_by_entity), never by state: without statistics SQLite would otherwise walk
    // every pending event of the queue for each slice, and a device pushing a long queue gets its
    // own commits back while thousands are still pending.
    const withOpen = new Set(
      (
        ctx
          .stmt("SELECT DISTINCT entity_id FROM sync_queue INDEXED BY queue_by_entity WHERE entity_id IN (SELECT value FROM json_each(?)) AND sync_status = 'pending'")
          .all(ids) as Array<{ entity_id: string }>
      ).map((r) => r.entity_id),
    );
    const baseVersion = new Map(
      (ctx.stmt("SELECT entity_id, version FROM base_entities WHERE entity_id IN (SELECT value FROM json_each(?))").all(ids) as Array<{ entity_id: string; version: number }>).map(
        (r) => [r.entity_id, r.version],
      ),
    );
    let applied = 0;
    for (const change of changes) {
      if (change.seq <= at) continue; // already applied (a live change that raced a pull)
      if (change.seq !== at + 1) break;
      recordCommittedPos(ctx, change.entity, change.operation, change.device_id, change.seq);
      if (withOpen.has(change.entity_id)) {
        applyOnOpenEntity(ctx, change);
      } else if (change.entity.version > (baseVersion.get(change.entity_id) ?? 0)) {
        // Server moves forward only; no open event means the view is the base (view.ts).
        const body = JSON.stringify(change.entity);
        writeBaseText(ctx, change.entity, body);
        upsertViewText(ctx, change.entity, "synced", body);
        baseVersion.set(change.entity_id, change.entity.version);
      }
      at = change.seq;
      applied++;
    }
    setCursor(ctx, at);
    return { applied, cursor: at };
  })();
}

/** A change on an entity this device has open events on: every case, one change at a time. */
function applyOnOpenEntity(ctx: StoreContext, change: Change): void {
  keepBaseOfOpenEvents(ctx, change.entity_id, change.event_id);
  const wrote = writeBase(ctx, change.entity);
  // Our own event, whose verdict we never saw (lost in a crash or a cut): the commit proves it.
  const own = ctx.stmt("SELECT * FROM sync_queue WHERE id = ? AND sync_status = 'pending'").get(change.event_id) as QueueRow | undefined;
  if (own) {
    const receipt = change.entity.entity_type === "pos_order" && change.operation === "create" ? change.entity.official_receipt_no : null;
    markConfirmed(ctx, own, change.seq, change.entity.version, receipt);
    log(ctx, "confirmed", `seq ${change.seq} (from the change stream)`, own);
    releaseKeptBase(ctx, change.entity_id);
  }
  // The view is base ⊕ open events: when neither moved (our own commit, already folded in by its
  // verdict), it is already right.
  if (wrote || own) refreshView(ctx, change.entity_id, wrote ? change.entity : undefined);
}
