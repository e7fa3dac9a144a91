/**
 * The dashboard's reads on a real SQLite branch core (protocol/dashboard.ts): every answer has the
 * documented shape (checked with its schema), pages and filters, the depends_on_rejected chain, the
 * rejections kept beside their verdicts exactly once, the migration of a layout-6 branch, and (the
 * plan contract, contract/dashboard-plans.ts) every query's plan: none scans a big table whole.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { AuditPage, DeviceBoard, DeviceInfo, EntityHistory, MoneyReport, RejectionDetail, RejectionPage, RejectionTimeline } from "../../../protocol/index.js";
import type { BranchId } from "../../../domain/index.js";
import { nodeSqlStore } from "../../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../../durable/core/branch.js";
import { answerDashboard } from "../../../durable/core/dashboard-api.js";
import { migrate, MIGRATIONS } from "../../../durable/core/migrations.js";
import { MAX_KEPT_ATTEMPT_BYTES } from "../../../durable/core/rejections.js";
import type { SqlStore, SqlValue } from "../../../durable/core/sql.js";
import { migrate as runMigrations } from "../../../sqlite/migrate.js";
import { actor, DEVICES } from "../../support/branch.js";
import { dashboardPlanContract } from "./contract/dashboard-plans.js";
import { makeEventFactory } from "../../support/events.js";
import { Prng } from "../../support/prng.js";

dashboardPlanContract("better-sqlite3", {
  withStore: async (fn) => {
    const sql = nodeSqlStore(":memory:");
    try {
      return await fn(sql);
    } finally {
      sql.close();
    }
  },
});

const { A, B, C } = DEVICES;
const START = Date.UTC(2026, 10, 25, 4, 0, 0);

/** A core whose reads are recorded, so each query's plan can be asked for. */
function recordingCore() {
  const sql = nodeSqlStore(":memory:");
  const queries: { text: string; params: SqlValue[] }[] = [];
  const recording: SqlStore = {
    ...sql,
    all: (text, ...params) => (queries.push({ text, params }), sql.all(text, ...params)),
    one: (text, ...params) => (queries.push({ text, params }), sql.one(text, ...params)),
  };
  let now = START;
  const core = new BranchCore(recording, "dash-branch" as BranchId, () => now, { defaultTimeZone: "Asia/Colombo" });
  return { core, sql, queries, advance: (ms: number) => void (now += ms), close: () => sql.close() };
}

let t: ReturnType<typeof recordingCore>;
let f: ReturnType<typeof makeEventFactory>;
const owner = () => actor(A, "owner", "owner-amal");
const other = () => actor(C, "owner", "owner-chathu");
const cashier = () => actor(B, "cashier", "cashier-nimal");

/** A branch with conflicts: a version conflict and two events depending on it, a refusal, an unreadable event, sales and a void. */
function seed() {
  const project = f.createProject(A);
  const edit = f.updateProject(A, project.entity_id, { title: "Ours" }, { base: 1 });
  t.core.push(owner(), [project, edit]);
  t.advance(60_000);
  const conflict = f.updateProject(C, project.entity_id, { title: "Theirs" }, { base: 1 });
  const second = f.updateProject(C, project.entity_id, { notes: "more" }, { dep: conflict.id });
  const third = f.updateProject(C, project.entity_id, { notes: "even more" }, { dep: second.id });
  const verdicts = t.core.push(other(), [conflict, second, third]).verdicts;
  t.advance(60_000);
  const refused = f.createProject(B);
  t.core.push(cashier(), [refused]);
  t.advance(60_000);
  const unreadable = { id: f.nextId(), payload: "garbage" };
  t.core.push(cashier(), [unreadable as never]);
  const sale = f.sale(A, undefined, "T1-000001", 100_000);
  const kept = f.sale(A, undefined, "T1-000002", 50_000);
  t.core.push(owner(), [sale, kept, f.voidOrder(A, sale.entity_id, { base: 1 })]);
  return { project, conflict, second, third, refused, unreadable, sale, verdicts };
}

beforeEach(() => {
  t = recordingCore();
  f = makeEventFactory(15);
});
afterEach(() => t.close());

describe("rejections kept for the dashboard (layout 7)", () => {
  it("are written with their verdict: who, what, the dependency and the attempt; a replay adds none", () => {
    const s = seed();
    expect(s.verdicts.map((v) => v.status === "rejected" && v.code)).toEqual(["version_conflict", "depends_on_rejected", "depends_on_rejected"]);
    const page = RejectionPage.parse(t.core.dashboard.rejections({}, null, 50));
    expect(page.total).toBe(5);
    expect(page.rejections.map((r) => [r.id, r.code, r.user_id, r.operation])).toEqual([
      [5, "invalid_payload", "cashier-nimal", null],
      [4, "permission_denied", "cashier-nimal", "create"],
      [3, "depends_on_rejected", "owner-chathu", "update"],
      [2, "depends_on_rejected", "owner-chathu", "update"],
      [1, "version_conflict", "owner-chathu", "update"],
    ]);
    expect(page.rejections[2]).toMatchObject({ event_id: s.third.id, depends_on: s.second.id, entity_type: "project", entity_id: s.project.entity_id, device_id: C });
    // Exactly once (I3): the same events again are replays, not new rejections.
    t.core.push(other(), [s.conflict, s.second]);
    expect(t.core.dashboard.rejections({}, null, 50).total).toBe(5);
  });

  it("keep the attempt as sent, or say why not: unreadable, or larger than the branch keeps", () => {
    const s = seed();
    const conflict = RejectionDetail.parse(t.core.dashboard.rejection(s.conflict.id));
    expect(conflict.attempted).toEqual({ entity_type: "project", entity_id: s.project.entity_id, operation: "update", base_version: 1, payload: { title: "Theirs" } });
    expect(conflict.attempted_note).toBeNull();
    const unreadable = RejectionDetail.parse(t.core.dashboard.rejection(s.unreadable.id));
    expect(unreadable.attempted).toBeNull();
    expect(unreadable.attempted_note).toBe("not kept: the event could not be read as a change (invalid_payload)");
    const big = f.updateProject(C, s.project.entity_id, { notes: "x".repeat(MAX_KEPT_ATTEMPT_BYTES) }, { base: 1 });
    t.core.push(other(), [big]);
    expect(RejectionDetail.parse(t.core.dashboard.rejection(big.id)).attempted_note).toMatch(/^not kept: the attempted change is \d+ bytes; the branch keeps up to 262144$/);
  });
});

describe("the dashboard's reads", () => {
  it("a rejection's drill-down: the server's entity it was judged against, who made it, and the chain it caused", () => {
    const s = seed();
    const first = RejectionDetail.parse(t.core.dashboard.rejection(s.conflict.id));
    expect(first.summary.code).toBe("version_conflict");
    expect(first.verdict).toMatchObject({ event_id: s.conflict.id, status: "rejected", code: "version_conflict", server_entity: null, last_change: { seq: 2 } });
    expect(first.server_version).toBe(2);
    expect(first.server_entity).toMatchObject({ entity_id: s.project.entity_id, version: 2, data: { title: "Ours" } });
    expect(first.current_entity).toMatchObject({ version: 2 });
    expect(first.last_change).toMatchObject({ seq: 2, user_id: "owner-amal", device_id: A, operation: "update" });
    expect(first.cause).toBeNull();
    expect(first.caused.map((r) => r.event_id)).toEqual([s.second.id, s.third.id]);
    const last = RejectionDetail.parse(t.core.dashboard.rejection(s.third.id));
    expect(last.cause?.event_id).toBe(s.second.id);
    expect(last.caused).toEqual([]);
    expect(t.core.dashboard.rejection(f.nextId())).toBeNull();
  });

  it("pages rejections newest first by id, filters them, and counts every match", () => {
    seed();
    const d = t.core.dashboard;
    const one = RejectionPage.parse(d.rejections({}, null, 2));
    expect(one.rejections.map((r) => r.id)).toEqual([5, 4]);
    expect(one.next_before).toBe(4);
    const two = RejectionPage.parse(d.rejections({}, 4, 2));
    expect(two.rejections.map((r) => r.id)).toEqual([3, 2]);
    const three = RejectionPage.parse(d.rejections({}, two.next_before, 2));
    expect(three).toEqual({ rejections: [expect.objectContaining({ id: 1 })], next_before: null, total: 5 });
    expect(d.rejections({ device: C }, null, 50)).toMatchObject({ total: 3 });
    expect(d.rejections({ code: "depends_on_rejected" }, null, 1)).toMatchObject({ total: 2, next_before: 3 });
    expect(d.rejections({ entity_type: "project", device: B }, null, 50).rejections.map((r) => r.code)).toEqual(["permission_denied"]);
    expect(d.rejections({ from: new Date(START + 60_000).toISOString(), to: new Date(START + 120_000).toISOString() }, null, 50)).toMatchObject({ total: 3 });
  });

  it("counts rejections per bucket, code and device", () => {
    seed();
    const line = RejectionTimeline.parse(t.core.dashboard.timeline(START, START + 3_600_000, 60));
    expect(line.bucket_s).toBe(60);
    expect(line.by_code).toEqual([
      { bucket_start: "2026-11-25T04:01:00.000Z", code: "depends_on_rejected", count: 2 },
      { bucket_start: "2026-11-25T04:01:00.000Z", code: "version_conflict", count: 1 },
      { bucket_start: "2026-11-25T04:02:00.000Z", code: "permission_denied", count: 1 },
      { bucket_start: "2026-11-25T04:03:00.000Z", code: "invalid_payload", count: 1 },
    ]);
    expect(line.by_device).toEqual([
      { bucket_start: "2026-11-25T04:01:00.000Z", device_id: C, count: 3 },
      { bucket_start: "2026-11-25T04:02:00.000Z", device_id: B, count: 1 },
      { bucket_start: "2026-11-25T04:03:00.000Z", device_id: B, count: 1 },
    ]);
    // A bucket too small for the range is raised to fit MAX_TIMELINE_BUCKETS.
    expect(t.core.dashboard.timeline(START, START + 86_400_000, 1).bucket_s).toBe(173);
  });

  it("an entity's history: its versions with who and what, and the attempts rejected against it", () => {
    const s = seed();
    const history = EntityHistory.parse(t.core.dashboard.history(s.project.entity_id, null, 50));
    expect(history.versions.map((v) => [v.seq, v.version, v.operation, v.user_id])).toEqual([
      [2, 2, "update", "owner-amal"],
      [1, 1, "create", "owner-amal"],
    ]);
    expect(history.versions[0]!.changed_fields).toEqual(["title"]);
    expect(history.rejections.map((r) => r.event_id)).toEqual([s.third.id, s.second.id, s.conflict.id]);
    expect(history.entity_type).toBe("project");
    const paged = EntityHistory.parse(t.core.dashboard.history(s.project.entity_id, null, 1));
    expect(paged.next_before_seq).toBe(2);
    expect(EntityHistory.parse(t.core.dashboard.history(s.project.entity_id, 2, 1)).versions.map((v) => v.seq)).toEqual([1]);
    // Never committed, only refused: its history is the refusal.
    const refused = EntityHistory.parse(t.core.dashboard.history(s.refused.entity_id, null, 50));
    expect(refused).toMatchObject({ current: null, versions: [], rejections: [expect.objectContaining({ code: "permission_denied" })] });
    expect(t.core.dashboard.history(f.nextId(), null, 50)).toBeNull();
  });

  it("the money of a range of business days, and its voids with reason and by whom", () => {
    const s = seed();
    const money = MoneyReport.parse(t.core.dashboard.money("2026-11-25", "2026-11-25"));
    expect(money.rows).toEqual(t.core.ledger("2026-11-25"));
    expect(money.rows).toMatchObject([{ sales_count: 2, voids_count: 1, net_minor: 50_000 }]);
    expect(money.voids).toEqual([
      expect.objectContaining({ entity_id: s.sale.entity_id, reason: "mistake", voided_by_user: "owner-amal", voided_by_device: A, total_minor: 100_000, kind: "sale" }),
    ]);
    expect(MoneyReport.parse(t.core.dashboard.money("2026-11-26", "2026-11-30")).rows).toEqual([]);
  });

  it.each([1, 2, 3])("seed %i: the money view's running totals are the ledger LEDGER_SQL computes, day by day (I6)", (seed) => {
    const prng = new Prng(seed, "ledger");
    const orders: { id: string; device: string; currency: string; voided: boolean }[] = [];
    for (let step = 0; step < 120; step++) {
      const device = [A, C][prng.int(0, 1)]!;
      const who = device === A ? owner() : other();
      const roll = prng.int(0, 4);
      const open = orders.filter((o) => !o.voided);
      if (roll <= 2 || open.length === 0) {
        const currency = prng.chance(0.7) ? "LKR" : "USD";
        const day = 20 + prng.int(0, 9);
        const sale = f.sale(device, undefined, `T-${step}`, prng.int(1, 500_000));
        const payload = { ...(sale.payload as object), currency, rung_at: `2026-11-${day}T${prng.chance(0.5) ? "23:50" : "00:10"}:00.000+05:30` };
        t.core.push(who, [{ ...sale, payload } as never]);
        orders.push({ id: sale.entity_id, device, currency, voided: false });
      } else if (roll === 3) {
        const original = open[prng.int(0, open.length - 1)]!;
        const correction = f.correction(device, original.id, undefined, -prng.int(1, 50_000));
        t.core.push(who, [{ ...correction, payload: { ...(correction.payload as object), currency: original.currency, local_receipt_no: `C-${step}` } } as never]);
        orders.push({ id: correction.entity_id, device, currency: original.currency, voided: false });
      } else {
        const order = open[prng.int(0, open.length - 1)]!;
        const verdict = t.core.push(who, [f.voidOrder(device, order.id, { base: 1 })]).verdicts[0]!;
        if (verdict.status === "confirmed") order.voided = true;
      }
    }
    const all = t.core.ledger(null);
    expect(all.length).toBeGreaterThan(10);
    expect(all.some((row) => row.voids_count > 0 && row.corrections_count > 0)).toBe(true);
    expect(t.core.dashboard.money("2026-11-01", "2026-12-31").rows).toEqual(all);
    expect(t.core.dashboard.money("2026-11-23", "2026-11-24").rows).toEqual(all.filter((row) => row.day >= "2026-11-23" && row.day <= "2026-11-24"));
  });

  it("the audit newest first, by kind and by device", () => {
    seed();
    const page = AuditPage.parse(t.core.dashboard.audit({}, null, 3));
    expect(page.entries.map((e) => e.id)).toEqual([...page.entries.map((e) => e.id)].sort((a, b) => b - a));
    expect(page.next_before).toBe(page.entries[2]!.id);
    const rejections = AuditPage.parse(t.core.dashboard.audit({ kind: "rejection" }, null, 50));
    expect(rejections.entries.map((e) => e.code)).toEqual(["invalid_payload", "depends_on_rejected", "depends_on_rejected", "version_conflict"]);
    expect(AuditPage.parse(t.core.dashboard.audit({ kind: "permission_denied", device: B }, null, 50)).entries.map((e) => e.kind)).toEqual(["permission_denied"]);
  });

  it("devices most recently seen first, with what they reported", () => {
    t.core.admitHello(owner(), { app: "desk/1" });
    t.advance(1_000);
    t.core.admitHello(cashier(), { app: "till/1" });
    t.core.recordHello(B, { protocol_version: 6, cursor: 0, queue: { pending: 4, oldest_pending_age_ms: 30_000 }, token_expires_at_ms: START + 86_400_000 });
    const board = DeviceBoard.parse(t.core.dashboard.devices(new Set([B])));
    expect(board.devices.map((d) => [d.device_id, d.connected])).toEqual([
      [B, true],
      [A, false],
    ]);
    expect(board.devices[0]).toMatchObject({ pending: 4, oldest_pending_at: "2026-11-25T03:59:31.000Z", protocol_version: 6, token_expires_at: "2026-11-26T04:00:00.000Z" });
  });
});

describe("GET …/devices after layout 7", () => {
  it("still lists exactly DeviceInfo's fields: the reports are the dashboard's", () => {
    t.core.admitHello(owner(), { app: "desk/1" });
    t.core.recordHello(A, { protocol_version: 6, cursor: 0, token_expires_at_ms: START });
    expect(Object.keys(t.core.devices()[0]!).sort()).toEqual(Object.keys(DeviceInfo.shape).sort());
  });
});

describe("the dashboard over its HTTP parameters", () => {
  const get = (path: string, query = "") => answerDashboard(t.core.dashboard, path, new URL(`https://s.test/v1/branches/b/dashboard/${path}${query}`), () => new Set());

  it("names the bad parameter in a 400, and answers 404 for what the branch never had", () => {
    seed();
    const bad: [string, string, RegExp][] = [
      ["rejections", "?limit=0", /^limit must be an integer from 1 to 200/],
      ["rejections", "?limit=201", /^limit must be/],
      ["rejections", "?before=x", /^before must be/],
      ["rejections", "?code=nope", /^code must be a reject code/],
      ["rejections", "?entity_type=car", /^entity_type must be one of project, invoice, pos_order/],
      ["rejections", "?from=yesterday", /^from must be an ISO date-time/],
      ["rejections/timeline", "?from=2026-11-25T05:00:00Z&to=2026-11-25T04:00:00Z", /^from must be before to/],
      ["rejections/timeline", "?bucket_s=0", /^bucket_s must be/],
      ["rejections/not-an-id", "", /^event id "not-an-id"/],
      ["money", "?from=2026-13-01", /^from must be a calendar date/],
      ["money", "?from=2026-11-26&to=2026-11-25", /^from must not be after to/],
      ["money", "?from=2026-01-01&to=2026-11-25", /^from to to spans 329 days; at most 92/],
      ["audit", "?kind=gossip", /^kind must be one of rejection, /],
      ["entities/x/history", "?before_seq=-1", /^before_seq must be/],
    ];
    for (const [path, query, message] of bad) {
      const answer = get(path, query);
      expect(answer.status, `${path}${query}`).toBe(400);
      expect(answer.body, `${path}${query}`).toMatchObject({ error: "bad_request", message: expect.stringMatching(message) });
    }
    expect(get(`rejections/${f.nextId()}`)).toMatchObject({ status: 404, body: { error: "not_found" } });
    expect(get(`entities/${f.nextId()}/history`)).toMatchObject({ status: 404 });
    expect(get("nothing")).toMatchObject({ status: 404 });
    // Defaults: the last 14 business days of the branch's zone, the last 24 hours.
    expect(get("money").body).toMatchObject({ from: "2026-11-12", to: "2026-11-25", time_zone: "Asia/Colombo" });
    expect(get("rejections/timeline").body).toMatchObject({ from: "2026-11-24T04:03:00.000Z", to: "2026-11-25T04:03:00.000Z", bucket_s: 864 });
  });
});

describe("migrating a layout-6 branch", () => {
  it("keeps its rejected verdicts as rejections, in decision order, without who or what was attempted", () => {
    const sql = nodeSqlStore(":memory:");
    runMigrations(sql, MIGRATIONS.slice(0, 6), () => "too new");
    const project = f.nextId();
    sql.run("INSERT INTO entities (entity_id, entity_type, version, deleted, updated_seq) VALUES (?, 'project', 1, 0, 1)", project);
    const verdict = (id: string, at: string, entity: string, code: string) =>
      sql.run("INSERT INTO verdicts (event_id, device_id, entity_id, status, code, message, decided_at) VALUES (?, ?, ?, 'rejected', ?, 'm', ?)", id, A, entity, code, at);
    const [late, early] = [f.nextId(), f.nextId()];
    verdict(late, "2026-11-25T05:00:00.000Z", project, "version_conflict");
    verdict(early, "2026-11-25T04:00:00.000Z", "", "invalid_payload");
    sql.run("INSERT INTO verdicts (event_id, device_id, entity_id, status, seq, version, decided_at) VALUES (?, ?, ?, 'confirmed', 1, 1, ?)", f.nextId(), A, project, "2026-11-25T03:00:00.000Z");
    migrate(sql);
    const core = new BranchCore(sql, "migrated" as BranchId, () => START);
    const page = RejectionPage.parse(core.dashboard.rejections({}, null, 50));
    expect(page.total).toBe(2);
    expect(page.rejections.map((r) => [r.id, r.event_id, r.entity_type, r.user_id, r.operation])).toEqual([
      [2, late, "project", null, null],
      [1, early, null, null, null],
    ]);
    expect(RejectionDetail.parse(core.dashboard.rejection(late))).toMatchObject({ attempted: null, attempted_note: "decided before the branch kept attempted changes" });
    // And the next rejection continues the order.
    core.push(actor(A), [f.updateProject(A, project, { title: "x" }, { base: 7 })]);
    expect(core.dashboard.rejections({}, null, 1).rejections[0]).toMatchObject({ id: 3, user_id: "u-00a1" });
    sql.close();
  });
});
