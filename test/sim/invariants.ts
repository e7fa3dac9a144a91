/**
 * The invariants of DESIGN.md §2, checked on a drained run: the network healed, every device synced
 * to quiescence. Each check reads the real storage on both sides (the branch's SQLite and each
 * device's SQLite file) and returns violations as values, one line each.
 */
import { isDeepStrictEqual } from "node:util";
import { dayFigures, type Entity, figuresDifference, LEASE_GROUPS, type LedgerRow } from "../../domain/index.js";
import { dayOrders, dayRevisions } from "../../durable/core/days.js";
import { inspectStore } from "../../desktop/store/inspect.js";
import { type LogRow, readLog, type SimBranch } from "./branch.js";
import type { SimDevice } from "./device.js";

/**
 * DESIGN.md's invariants, plus `liveness` (a device still running at the end), `order`: a device's
 * events go out on each connection in the order it queued them, and commit in that order, however
 * many batches are in flight (machines/sync-machine.ts, MAX_BATCHES_IN_FLIGHT), and `lease`: no
 * commit touched a field group while another device held its lease (protocol v7, checkLeases).
 */
export type InvariantName = "I2" | "I3" | "I4" | "I5" | "I6" | "I7" | "I12" | "liveness" | "order" | "lease";

export interface Violation {
  invariant: InvariantName;
  message: string;
}

export interface World {
  branch: SimBranch;
  devices: readonly SimDevice[];
}

interface VerdictRow {
  event_id: string;
  device_id: string;
  entity_id: string;
  status: "confirmed" | "rejected";
  seq: number | null;
  version: number | null;
  official_receipt_no: number | null;
  code: string | null;
}

const POS_COLUMNS = "entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id, currency, total_minor, business_day, seq";

/** Where two values first differ, for a one-line message. */
export function firstDifference(a: unknown, b: unknown, at = ""): string {
  if (isDeepStrictEqual(a, b)) return "";
  if (typeof a === "object" && a !== null && typeof b === "object" && b !== null && !Array.isArray(a) === !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const key of [...keys].sort()) {
      const d = firstDifference((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key], `${at}.${key}`);
      if (d) return d;
    }
  }
  const show = (v: unknown) => (v === undefined ? "undefined" : JSON.stringify(v).slice(0, 120));
  return `${at || "(root)"}: ${show(a)} vs ${show(b)}`;
}

/**
 * `lease`: no device's commit touched a field group while another device held a lease on it. The
 * leases are rebuilt from the branch's answers as they happened (SimBranch.leaseLog: each with the
 * head then, so a commit of the same millisecond is placed before or after it), and which groups a
 * commit touched is worked out here from what the log stored (its changed fields, its operation, a
 * correction's order), not by the code that decided it.
 */
export function checkLeases(branch: Pick<SimBranch, "leaseLog" | "sql"> & Partial<Pick<SimBranch, "log">>): Violation[] {
  const out: Violation[] = [];
  interface Held {
    device: string;
    /** Commits with a greater seq came after the grant. */
    afterSeq: number;
    /** Renewals: (from this seq on, until this time). */
    until: Array<{ afterSeq: number; expiresMs: number }>;
    /** Released or broken: commits up to this seq came before. */
    closedAtSeq: number;
  }
  const intervals = new Map<string, Held[]>();
  const open = new Map<string, Held>();
  for (const e of branch.leaseLog) {
    const key = `${e.request.entity_id}/${e.request.group}`;
    const current = open.get(key);
    const lease = e.result.lease;
    if (e.result.outcome === "granted" && lease) {
      const inForce = current && current.until.at(-1)!.expiresMs > e.atMs && current.closedAtSeq === Infinity;
      if (inForce && current.device === lease.device_id) {
        current.until.push({ afterSeq: e.head, expiresMs: lease.expires_at_ms });
      } else {
        if (inForce) out.push({ invariant: "lease", message: `${key} was granted to ${lease.device_id} while ${current.device} held it` });
        const held: Held = { device: lease.device_id, afterSeq: e.head, until: [{ afterSeq: e.head, expiresMs: lease.expires_at_ms }], closedAtSeq: Infinity };
        open.set(key, held);
        intervals.set(key, [...(intervals.get(key) ?? []), held]);
      }
    } else if ((e.result.outcome === "released" || e.result.outcome === "broken") && current) {
      current.closedAtSeq = e.head;
      open.delete(key);
    }
  }
  if (intervals.size === 0) return out;
  // The whole history (compacted commits included) when the branch keeps it, else the stored log.
  const changes: LogRow[] = "log" in branch && typeof branch.log === "function" ? branch.log() : readLog(branch.sql);
  for (const c of changes) {
    const touched: string[] = [];
    const fields = JSON.parse(c.changed_fields) as string[];
    for (const [group, rule] of Object.entries(LEASE_GROUPS)) {
      if (rule.entity_type !== c.entity_type) continue;
      if (c.operation === "update" && rule.fields.some((f) => fields.includes(f))) touched.push(`${c.entity_id}/${group}`);
      if ((c.operation === "delete" || c.operation === "void") && rule.operations.includes(c.operation)) touched.push(`${c.entity_id}/${group}`);
    }
    if (c.entity_type === "pos_order" && c.operation === "create" && c.corrects_order_id) touched.push(`${c.corrects_order_id}/correction`);
    const atMs = Date.parse(c.committed_at);
    for (const key of touched) {
      for (const held of intervals.get(key) ?? []) {
        if (held.device === c.device_id || c.seq <= held.afterSeq || c.seq > held.closedAtSeq) continue;
        const expiresMs = held.until.filter((u) => u.afterSeq < c.seq).at(-1)!.expiresMs;
        if (atMs < expiresMs) {
          out.push({ invariant: "lease", message: `seq ${c.seq} (${c.operation} by ${c.device_id}) touched ${key} while ${held.device} held its lease (until ${new Date(expiresMs).toISOString()})` });
        }
      }
    }
  }
  return out;
}

export function checkInvariants(world: World): Violation[] {
  const out: Violation[] = [];
  const v = (invariant: InvariantName, message: string) => void out.push({ invariant, message });
  const { branch } = world;
  const sql = branch.sql;

  // ── the server alone ──
  // Every commit ever made (compaction removes old ones from the log: the simulation kept them, SimBranch.log).
  const changes: LogRow[] = branch.log();
  const head = branch.core.head();
  const changeBySeq = new Map<number, LogRow>();
  const changeByEvent = new Map<string, LogRow>();
  changes.forEach((c, i) => {
    // I4: every commit took the next seq.
    if (c.seq !== i + 1) v("I4", `server seqs are not gapless: position ${i + 1} holds seq ${c.seq}`);
    // I3: an event commits at most once.
    if (changeByEvent.has(c.event_id)) v("I3", `event ${c.event_id} committed twice (seq ${changeByEvent.get(c.event_id)!.seq} and ${c.seq})`);
    changeBySeq.set(c.seq, c);
    changeByEvent.set(c.event_id, c);
  });
  if (head !== changes.length) v("I4", `head is ${head} but ${changes.length} commits exist`);

  for (const message of branch.chainMismatches) v("I5", message);

  // Compaction (protocol v9) only removes: every row still in the log is the commit made at its seq,
  // every commit after `compacted_through` is still there (a pull from there on is exact, I4), and
  // the point never passes the newest base snapshot (what a device behind it bootstraps from).
  const through = branch.compactedThrough();
  const stored = readLog(sql);
  const madeAt = new Map(changes.map((c) => [c.seq, c]));
  for (const row of stored) {
    const made = madeAt.get(row.seq);
    if (!made || made.event_id !== row.event_id || made.version !== row.version || made.entity_id !== row.entity_id) {
      v("I4", `the branch's log holds seq ${row.seq} (event ${row.event_id}), which is not the commit made at seq ${row.seq} (${made?.event_id ?? "none"})`);
    }
  }
  const tail = stored.filter((c) => c.seq > through);
  tail.forEach((c, i) => {
    if (c.seq !== through + 1 + i) v("I4", `server seqs are not gapless after compacted_through ${through}: position ${i + 1} of the log after it holds seq ${c.seq}`);
  });
  if (tail.length !== head - through) v("I4", `the log holds ${tail.length} commits after compacted_through ${through}, head is ${head}`);
  if (through > 0 && !branch.snapshots.some((s) => s.manifest.base_seq === undefined && s.manifest.seq >= through)) {
    v("I4", `the branch compacted through seq ${through} but no base snapshot kept covers it`);
  }

  // I4/I3: each entity's versions go 1, 2, 3 … one commit each, in seq order.
  const versionOf = new Map<string, number>();
  for (const c of changes) {
    const previous = versionOf.get(c.entity_id) ?? 0;
    if (c.version !== previous + 1) v("I3", `entity ${c.entity_id}: seq ${c.seq} committed version ${c.version} after version ${previous}`);
    versionOf.set(c.entity_id, c.version);
    // I6: a POS order is created once and may be voided; nothing else ever happens to it.
    if (c.entity_type === "pos_order" && !((c.operation === "create" && c.version === 1) || (c.operation === "void" && c.version === 2))) {
      v("I6", `POS order ${c.entity_id}: seq ${c.seq} is a ${c.operation} at version ${c.version} (POS is append-only)`);
    }
  }

  const verdicts = new Map(sql.all<VerdictRow>("SELECT event_id, device_id, entity_id, status, seq, version, official_receipt_no, code FROM verdicts").map((r) => [r.event_id, r]));
  for (const c of changes) {
    const verdict = verdicts.get(c.event_id);
    if (!verdict || verdict.status !== "confirmed" || verdict.seq !== c.seq || verdict.version !== c.version) {
      v("I3", `commit seq ${c.seq} (event ${c.event_id}) has stored verdict ${JSON.stringify(verdict ?? null)}`);
    }
  }
  for (const verdict of verdicts.values()) {
    if (verdict.status === "confirmed" && !changeByEvent.has(verdict.event_id)) v("I3", `event ${verdict.event_id} has a confirmed verdict but no commit`);
    if (verdict.status === "rejected" && changeByEvent.has(verdict.event_id)) v("I7", `event ${verdict.event_id} was rejected and committed`);
  }

  // I6: official receipt numbers are the branch's gap-free sequence.
  const receipts = sql.all<{ official_receipt_no: number }>("SELECT official_receipt_no FROM pos_orders ORDER BY official_receipt_no");
  receipts.forEach((r, i) => {
    if (r.official_receipt_no !== i + 1) v("I6", `official receipt numbers are not gap-free: position ${i + 1} holds ${r.official_receipt_no}`);
  });

  const serverEntities = new Map<string, Entity>();
  for (const e of branch.core.entities()) serverEntities.set(e.entity_id, e);

  // Official invoice numbers (protocol v5) are gap-free too, one per invoice ever issued, and each
  // numbered invoice carries the number its issue took.
  const invoiceNos = sql.all<{ official_invoice_no: number; entity_id: string }>("SELECT official_invoice_no, entity_id FROM invoice_numbers ORDER BY official_invoice_no");
  invoiceNos.forEach((r, i) => {
    if (r.official_invoice_no !== i + 1) v("I4", `official invoice numbers are not gap-free: position ${i + 1} holds ${r.official_invoice_no}`);
    const e = serverEntities.get(r.entity_id);
    if (e?.entity_type !== "invoice" || e.official_invoice_no !== r.official_invoice_no) v("I4", `invoice ${r.entity_id} took no. ${r.official_invoice_no} but carries ${e?.entity_type === "invoice" ? e.official_invoice_no : "nothing"}`);
  });
  for (const e of serverEntities.values()) {
    if (e.entity_type === "invoice" && e.data.status !== "draft" && e.official_invoice_no === undefined && !(e.data.status === "void" && !invoiceNos.some((r) => r.entity_id === e.entity_id))) {
      v("I4", `invoice ${e.entity_id} is ${e.data.status} but has no official number`);
    }
  }
  const serverPos = sql.all<Record<string, unknown>>(`SELECT ${POS_COLUMNS} FROM pos_orders ORDER BY entity_id`);
  const serverVoids = sql.all<Record<string, unknown>>("SELECT entity_id, seq FROM pos_voids ORDER BY entity_id");
  const serverLedger = branch.core.ledger(null);

  const deviceIds = new Set(world.devices.map((d) => d.deviceId));
  for (const c of changes) if (!deviceIds.has(c.device_id)) v("I3", `commit seq ${c.seq} names unknown device ${c.device_id}`);

  // ── every device against the server ──
  for (const device of world.devices) {
    const store = device.store;
    const name = device.name;
    if (!store) {
      v("liveness", `${name} is not running at the end of the run`);
      continue;
    }
    for (const message of device.orderViolations) v("I4", message);

    // I4: what it applied is exactly the server's history, in order, once; a snapshot bootstrap (the
    // first, or again after compaction) moves the cursor forward to its chain's seq, never past the
    // head then, and the changes after it go on from there.
    let expected = 1;
    let boots = 0;
    device.applied.forEach((a, i) => {
      for (; boots < device.bootstraps.length && device.bootstraps[boots]!.atApplied <= i; boots++) expected = bootstrapped(device.bootstraps[boots]!, expected);
      if (a.seq !== expected) v("I4", `${name}: its ${i + 1}th applied change was seq ${a.seq}, not ${expected}`);
      expected = a.seq + 1;
      const server = changeBySeq.get(a.seq);
      if (!server || server.event_id !== a.event_id) v("I4", `${name} applied seq ${a.seq} as event ${a.event_id}, the server committed ${server?.event_id ?? "nothing"} there`);
    });
    for (; boots < device.bootstraps.length; boots++) expected = bootstrapped(device.bootstraps[boots]!, expected);
    function bootstrapped(b: (typeof device.bootstraps)[number], at: number): number {
      if (b.from !== at - 1) v("I4", `${name} bootstrapped from cursor ${b.from}, but its cursor was ${at - 1}`);
      if (b.to <= b.from || b.to > b.head) v("I4", `${name} bootstrapped from seq ${b.from} to seq ${b.to} (head ${b.head}): not forward, or past the head`);
      return b.to + 1;
    }
    if (store.cursor() !== head) v("I5", `${name}: cursor ${store.cursor()}, server head ${head}`);

    // What the app's API does not show, read from the device's file (a read-only second connection).
    const stored = inspectStore(store.path, (file) => ({ queue: file.queue(), views: file.views(), posOrders: file.posOrders(), posVoids: file.posVoids() }));
    const conflictByEvent = new Map(store.conflicts().map((c) => [c.event_id, c]));

    // I2, I3, I7: every queued event has exactly one verdict, the server's.
    const rows = stored.queue;
    const rowById = new Map(rows.map((r) => [r.id, r]));
    for (const row of rows) {
      const what = `${name} event ${row.id} (${row.operation} ${row.entity_type} ${row.entity_id})`;
      if (row.sync_status === "pending" || row.sync_status === "sent") {
        v("I2", `${what} is still ${row.sync_status} after the drain`);
        continue;
      }
      const verdict = verdicts.get(row.id);
      if (!verdict) {
        // The only verdict a device may give itself: a dependent of a rejected event, never sent.
        const dep = row.depends_on ? rowById.get(row.depends_on) : undefined;
        if (!(row.sync_status === "rejected" && row.reject_code === "depends_on_rejected" && dep?.sync_status === "rejected")) {
          v("I2", `${what} is ${row.sync_status} (${row.reject_code ?? "-"}) but the server never decided it`);
        }
      } else if (verdict.device_id !== device.deviceId) {
        v("I3", `${what}: the server recorded it for device ${verdict.device_id}`);
      } else if (verdict.status !== row.sync_status) {
        v("I2", `${what} is ${row.sync_status} on the device but ${verdict.status} (${verdict.code ?? `seq ${verdict.seq}`}) on the server`);
      } else if (row.sync_status === "confirmed" && (row.seq !== verdict.seq || row.version !== verdict.version)) {
        v("I3", `${what} confirmed as seq ${row.seq} v${row.version} on the device, seq ${verdict.seq} v${verdict.version} on the server`);
      } else if (row.sync_status === "rejected" && row.reject_code !== verdict.code) {
        v("I2", `${what} rejected as ${row.reject_code} on the device, ${verdict.code} on the server`);
      }
      if (row.sync_status === "rejected" && !conflictByEvent.has(row.id)) v("I2", `${what} was rejected but is not in the conflict inbox`);
      if (row.sync_status === "rejected" && changeByEvent.has(row.id)) v("I7", `${what} was rejected on the device but committed at seq ${changeByEvent.get(row.id)!.seq}`);
      if (row.sync_status === "confirmed" && row.entity_type === "pos_order" && row.operation === "create") {
        if (row.official_receipt_no !== verdict?.official_receipt_no) v("I6", `${what}: official receipt ${row.official_receipt_no} on the device, ${verdict?.official_receipt_no} on the server`);
      }
      // I7: a commit is on top of exactly what its author saw.
      if (row.sync_status === "confirmed" && row.operation !== "create" && row.version !== null) {
        if (row.base_version !== null && row.version !== row.base_version + 1) {
          v("I7", `${what} was written on version ${row.base_version} but committed as version ${row.version}`);
        }
        if (row.depends_on !== null) {
          const dep = rowById.get(row.depends_on);
          if (dep?.sync_status !== "confirmed" || dep.version === null || row.version !== dep.version + 1) {
            v("I7", `${what} builds on ${row.depends_on} (${dep?.sync_status ?? "unknown"} v${dep?.version ?? "-"}) but committed as version ${row.version}`);
          }
        }
      }
    }
    for (const verdict of verdicts.values()) {
      if (verdict.device_id === device.deviceId && !rowById.has(verdict.event_id)) v("I2", `the server decided event ${verdict.event_id} for ${name}, which never queued it`);
    }

    // Pipelined pushes: on one connection each event goes out once (a batch still in flight is never
    // sent again behind itself), in the order it was queued (batches are sent oldest first, and the
    // socket keeps their order); and the server commits the device's events in that order.
    for (const { connection, eventIds } of device.pushed) {
      const seen = new Set<string>();
      let last = -Infinity;
      for (const id of eventIds) {
        const row = rowById.get(id);
        if (seen.has(id)) v("I3", `${connection} pushed event ${id} twice`);
        else if (!row) v("I2", `${connection} pushed event ${id}, which ${name} never queued`);
        else if (row.position < last) v("order", `${connection} pushed event ${id} (queued at position ${row.position}) after an event queued at position ${last}`);
        seen.add(id);
        if (row) last = Math.max(last, row.position);
      }
    }
    let lastCommit: { id: string; seq: number } | null = null;
    for (const row of rows) {
      if (row.sync_status !== "confirmed" || row.seq === null) continue;
      if (lastCommit && row.seq < lastCommit.seq) v("order", `${name} event ${row.id} committed at seq ${row.seq}, before event ${lastCommit.id} queued ahead of it (seq ${lastCommit.seq})`);
      lastCommit = { id: row.id, seq: row.seq };
    }

    // I5: the base is the server's entities, field for field; the view shows the same.
    const base = new Map<string, Entity>();
    for (const e of store.baseEntities()) base.set(e.entity_id, e);
    for (const [id, server] of serverEntities) {
      const local = base.get(id);
      if (!local) v("I5", `${name} lacks ${server.entity_type} ${id} (server v${server.version})`);
      else if (!isDeepStrictEqual(local, server)) v("I5", `${name}'s base of ${server.entity_type} ${id} differs from the server: ${firstDifference(local, server)}`);
      const view = store.get(id);
      if (server.deleted ? view !== null && !isDeepStrictEqual(view.entity, server) : !view || !isDeepStrictEqual(view.entity, server)) {
        v("I5", `${name}'s view of ${server.entity_type} ${id} differs from the server: ${view ? firstDifference(view.entity, server) : "missing"}`);
      }
    }
    for (const id of base.keys()) if (!serverEntities.has(id)) v("I5", `${name}'s base has ${id}, which the server does not`);
    for (const view of stored.views) {
      if (serverEntities.has(view.entity_id)) {
        if (view.status !== "synced") v("I5", `${name}'s view of ${view.entity_id} is ${view.status} after the drain`);
      } else if (!(view.entity_type === "pos_order" && view.status === "rejected")) {
        v("I5", `${name} shows ${view.entity_type} ${view.entity_id} (${view.status}), which the server does not have`);
      }
    }

    // I6: a refused sale is kept and flagged; POS facts and the ledger are the server's.
    for (const row of rows) {
      if (row.entity_type === "pos_order" && row.operation === "create" && row.sync_status === "rejected") {
        const view = store.get(row.entity_id);
        if (view?.status !== "rejected") v("I6", `${name}: the refused sale ${row.entity_id} is no longer shown as refused (${view?.status ?? "erased"})`);
        if (conflictByEvent.get(row.id)?.needs_manager !== true) v("I6", `${name}: the refused sale ${row.entity_id} is not flagged for a manager`);
      }
    }
    const localPos = stored.posOrders as unknown as Array<Record<string, unknown>>;
    if (!isDeepStrictEqual(localPos, serverPos)) v("I6", `${name}'s POS orders differ from the server's: ${describeRows(localPos, serverPos)}`);
    const localVoids = stored.posVoids as unknown as Array<Record<string, unknown>>;
    if (!isDeepStrictEqual(localVoids, serverVoids)) v("I6", `${name}'s POS voids differ from the server's: ${describeRows(localVoids, serverVoids)}`);
    const ledger: LedgerRow[] = store.ledger(null);
    if (!isDeepStrictEqual(ledger, serverLedger)) v("I6", `${name}'s ledger differs from the server's: ${firstDifference(ledger, serverLedger)}`);
  }
  out.push(...checkLeases(branch));
  out.push(...checkClosedDays(world));
  return out;
}

/**
 * The end of a business day (issue 19), on the drained world: every closed day's report was issued
 * as revision 1 (the close) and then one amendment per push that moved its figures, each saying what
 * moved; its latest revision is the day's figures from the branch's POS facts now, and its totals are
 * the ledger's (I6); and every device's own figures of the day (LocalStore.dayFigures, from the POS
 * facts it synced or bootstrapped) are the report's, to the minor unit.
 */
export function checkClosedDays(world: World): Violation[] {
  const out: Violation[] = [];
  const v = (message: string) => void out.push({ invariant: "I6", message });
  const sql = world.branch.sql;
  for (const { day } of sql.all<{ day: string }>("SELECT DISTINCT day FROM day_revisions ORDER BY day")) {
    const revisions = dayRevisions(sql, day);
    revisions.forEach((r, i) => {
      if (r.revision !== i + 1) v(`day ${day}: revision ${r.revision} at position ${i + 1}`);
      if ((i === 0) !== (r.reason === "close")) v(`day ${day}: revision ${r.revision} has reason ${r.reason}`);
      if (i > 0 && !isDeepStrictEqual(r.changes, figuresDifference(revisions[i - 1]!.figures, r.figures))) v(`day ${day}: revision ${r.revision}'s changes are not what moved since revision ${i}`);
      if (i > 0 && r.changes.length === 0) v(`day ${day}: revision ${r.revision} was issued though nothing moved`);
    });
    const latest = revisions.at(-1)!.figures;
    const now = dayFigures(dayOrders(sql, day));
    if (!isDeepStrictEqual(latest, now)) v(`day ${day}: the closed report (revision ${revisions.length}) differs from the day's POS facts: ${firstDifference(latest, now)}`);
    const ledger = world.branch.core.ledger(day).map((row) => [row.device_id, row.currency, row.sales_minor, row.corrections_minor, row.voids_minor, row.net_minor]);
    const reported = latest.tills.map((t) => [t.device_id, t.currency, t.total.sales_minor, t.total.corrections_minor, t.total.voids_minor, t.total.net_minor]);
    if (!isDeepStrictEqual(reported, ledger)) v(`day ${day}: the closed report's totals differ from the ledger: ${firstDifference(reported, ledger)}`);
    for (const device of world.devices) {
      if (!device.store) continue;
      const local = device.store.dayFigures(day);
      if (!isDeepStrictEqual(local, latest)) v(`${device.name}'s figures of closed day ${day} differ from the report's: ${firstDifference(local, latest)}`);
    }
  }
  return out;
}

function describeRows(local: Array<Record<string, unknown>>, server: Array<Record<string, unknown>>): string {
  const key = (r: Record<string, unknown>) => String(r.entity_id);
  const serverBy = new Map(server.map((r) => [key(r), r]));
  const localBy = new Map(local.map((r) => [key(r), r]));
  for (const [id, row] of localBy) {
    const s = serverBy.get(id);
    if (!s) return `${id} only on the device`;
    if (!isDeepStrictEqual(row, s)) return `${id}: ${firstDifference(row, s)}`;
  }
  for (const id of serverBy.keys()) if (!localBy.has(id)) return `${id} only on the server`;
  return `${local.length} vs ${server.length} rows`;
}
