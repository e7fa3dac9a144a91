/**
 * The dashboard (protocol v6) against the real branch Durable Object in workerd, through the Worker:
 * the watch feed over real sockets (a device arriving, reporting, pushing, being revoked and leaving)
 * and every `GET …/dashboard/…` route with its documented shape (checked with its schema), paging,
 * the depends_on_rejected chain, and its 400, 403, 404 and 405 answers; and the plan of every
 * dashboard query on Durable Object SQLite (contract/dashboard-plans.ts).
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { doSqlStore } from "../../durable/adapters/do-sqlite.js";
import { dashboardPlanContract } from "../node/branch/contract/dashboard-plans.js";
import { describe, expect, it } from "vitest";
import { AuditPage, PROTOCOL_VERSION, DeviceBoard, EntityHistory, MoneyReport, Observed, RejectionDetail, RejectionPage, RejectionTimeline, Watching } from "../../protocol/index.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, ORIGIN, type TestClient, tokenFor } from "./support.js";

dashboardPlanContract("Durable Object SQLite in workerd", {
  withStore: (fn) => runInDurableObject(env.BRANCH.get(env.BRANCH.newUniqueId()), (_instance, state) => fn(doSqlStore(state.storage))),
});

let n = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;
const f = makeEventFactory(15);

const call = (method: string, branch: string, path: string, token: string, body?: unknown) =>
  SELF.fetch(`${ORIGIN}/v1/branches/${branch}/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function read(branch: string, path: string, token: string): Promise<unknown> {
  const response = await call("GET", branch, `dashboard/${path}`, token);
  const body = await response.json();
  expect(response.status, `${path}: ${JSON.stringify(body).slice(0, 300)}`).toBe(200);
  return body;
}

async function push(branch: string, token: string, events: unknown[]) {
  const response = await call("POST", branch, "push?protocol_version=6", token, { type: "push", batch_id: f.nextId(), events });
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdicts: Array<{ status: string; code?: string }> }).verdicts;
}

/** The next `observed` a watcher gets, checked against its schema. */
const observed = async (watcher: TestClient) => Observed.parse(await watcher.next("observed", { skip: true }));

describe("the watch feed over real sockets", () => {
  it("a viewer sees a device arrive, report its queue, push rejections (socket and HTTP), get revoked and leave; a cashier may not watch", async () => {
    const branch = fresh("dash-feed");
    const [viewerId, tillId, cashierId, managerId] = [newId(), newId(), newId(), newId()];
    const viewer = await connect(branch, viewerId, "viewer");
    const request = f.nextId();
    viewer.send({ type: "watch", request_id: request });
    const watching = Watching.parse(await viewer.next("watching"));
    expect(watching).toMatchObject({ request_id: request, head: 0, devices: [expect.objectContaining({ device_id: viewerId, connected: true })] });

    const cashier = await connect(branch, cashierId, "cashier");
    expect((await observed(viewer)).devices).toEqual([expect.objectContaining({ device_id: cashierId, role: "cashier", connected: true })]);
    const refused = f.nextId();
    cashier.send({ type: "watch", request_id: refused });
    expect(await cashier.next("error")).toMatchObject({ code: "forbidden", fatal: false, in_reply_to: refused });

    const till = await connect(branch, tillId, "owner");
    expect((await observed(viewer)).devices).toEqual([expect.objectContaining({ device_id: tillId, connected: true, protocol_version: PROTOCOL_VERSION, token_expires_at: expect.any(String) })]);
    till.send({ type: "status", cursor: 0, queue: { pending: 3, oldest_pending_age_ms: 60_000 } });
    expect((await observed(viewer)).devices).toEqual([expect.objectContaining({ device_id: tillId, pending: 3, oldest_pending_at: expect.any(String) })]);

    const project = f.createProject(tillId);
    till.send({ type: "push", batch_id: f.nextId(), events: [project, f.updateProject(tillId, project.entity_id, { title: "x" }, { base: 9 })] });
    await till.next("verdicts", { skip: true });
    const decided = await observed(viewer);
    expect(decided.rejections).toEqual([expect.objectContaining({ id: 1, code: "version_conflict", device_id: tillId, user_id: `user-${tillId.slice(-4)}` })]);

    // Over HTTP too: the request's rejections reach watchers right after it.
    const managerToken = await tokenFor(branch, managerId, "manager");
    await push(branch, managerToken, [f.updateProject(managerId, project.entity_id, { title: "y" }, { base: 5 })]);
    expect((await observed(viewer)).rejections).toEqual([expect.objectContaining({ id: 2, device_id: managerId })]);

    const board = DeviceBoard.parse(await read(branch, "devices", await tokenFor(branch, newId(), "viewer")));
    expect(board.devices.find((d) => d.device_id === tillId)).toMatchObject({ connected: true, pending: 3, cursor: 0 });

    // A manager's resolution grows the audit: watchers are told its new head (and nothing else changed).
    const before = decided.audit_head;
    const resolved = await call("POST", branch, `conflicts/${decided.rejections[0]!.event_id}/resolution`, managerToken, { action: "keep_server", note: "checked with the client" });
    expect(resolved.status).toBe(200);
    const audited = await observed(viewer);
    expect(audited).toMatchObject({ devices: [], rejections: [] });
    expect(audited.audit_head).toBeGreaterThan(before);

    // The till leaves (its socket closes): observed gone, last seen now.
    till.close();
    const left = await observed(viewer);
    expect(left.devices).toEqual([expect.objectContaining({ device_id: tillId, connected: false })]);

    // A revocation: the device is observed revoked (and the cashier's socket is closed).
    const revoke = await call("POST", branch, `devices/${cashierId}/revoke`, managerToken, { reason: "till stolen" });
    expect(revoke.status).toBe(200);
    let revoked = await observed(viewer);
    while (!revoked.devices.some((d) => d.device_id === cashierId && d.revoked_at !== null)) revoked = await observed(viewer);
    expect(revoked.devices.find((d) => d.device_id === cashierId)).toMatchObject({ revoke_reason: "till stolen" });
    viewer.close();
    cashier.close();
  });
});

describe("GET …/dashboard/…", () => {
  it("every view answers its documented shape, pages, and follows the depends_on_rejected chain", async () => {
    const branch = fresh("dash-routes");
    const [a, c] = [newId(), newId()];
    const ownerToken = await tokenFor(branch, a, "owner");
    const otherToken = await tokenFor(branch, c, "owner");
    const viewerToken = await tokenFor(branch, newId(), "viewer");
    const project = f.createProject(a);
    await push(branch, ownerToken, [project, f.updateProject(a, project.entity_id, { title: "Ours" }, { base: 1 })]);
    const conflict = f.updateProject(c, project.entity_id, { title: "Theirs" }, { base: 1 });
    const second = f.updateProject(c, project.entity_id, { notes: "more" }, { dep: conflict.id });
    const third = f.updateProject(c, project.entity_id, { notes: "most" }, { dep: second.id });
    expect((await push(branch, otherToken, [conflict, second, third])).map((v) => v.code)).toEqual(["version_conflict", "depends_on_rejected", "depends_on_rejected"]);
    const sale = f.sale(a, undefined, "T1-000001", 100_000);
    await push(branch, ownerToken, [sale, f.voidOrder(a, sale.entity_id, { base: 1 })]);

    const first = RejectionPage.parse(await read(branch, "rejections?limit=2", viewerToken));
    expect(first).toMatchObject({ total: 3, next_before: 2 });
    expect(first.rejections.map((r) => r.event_id)).toEqual([third.id, second.id]);
    const rest = RejectionPage.parse(await read(branch, `rejections?limit=2&before=${first.next_before}`, viewerToken));
    expect(rest).toMatchObject({ next_before: null, rejections: [expect.objectContaining({ event_id: conflict.id })] });
    expect(RejectionPage.parse(await read(branch, `rejections?device=${c}&code=depends_on_rejected`, viewerToken)).total).toBe(2);

    const detail = RejectionDetail.parse(await read(branch, `rejections/${conflict.id}`, viewerToken));
    expect(detail).toMatchObject({ server_version: 2, last_change: { seq: 2, device_id: a }, attempted: { payload: { title: "Theirs" } }, cause: null });
    expect(detail.caused.map((r) => r.event_id)).toEqual([second.id, third.id]);
    expect(RejectionDetail.parse(await read(branch, `rejections/${third.id}`, viewerToken)).cause?.event_id).toBe(second.id);

    const timeline = RejectionTimeline.parse(await read(branch, "rejections/timeline", viewerToken));
    expect(timeline.by_code.reduce((sum, row) => sum + row.count, 0)).toBe(3);
    expect(timeline.by_device).toEqual([expect.objectContaining({ device_id: c, count: 3 })]);
    // Buckets start on the grid from `from` (Durable Object SQLite binds numbers as floats: the bucket index must be floored).
    const from = new Date(Date.now() - 1_800_123);
    const grid = RejectionTimeline.parse(await read(branch, `rejections/timeline?from=${from.toISOString()}&to=${new Date(Date.now() + 60_000).toISOString()}&bucket_s=7`, viewerToken));
    for (const row of [...grid.by_code, ...grid.by_device]) expect((Date.parse(row.bucket_start) - Math.floor(from.getTime() / 1000) * 1000) % 7_000, row.bucket_start).toBe(0);
    expect(grid.by_device.reduce((sum, row) => sum + row.count, 0)).toBe(3);

    const history = EntityHistory.parse(await read(branch, `entities/${project.entity_id}/history`, viewerToken));
    expect(history.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(history.rejections.map((r) => r.event_id)).toEqual([third.id, second.id, conflict.id]);

    // The sale was rung on 2026-11-25 (+05:30), the branch's zone is Asia/Colombo (wrangler.toml).
    const money = MoneyReport.parse(await read(branch, "money?from=2026-11-25&to=2026-11-25", viewerToken));
    expect(money.rows).toMatchObject([{ day: "2026-11-25", sales_count: 1, voids_count: 1, net_minor: 0 }]);
    expect(money.voids).toMatchObject([{ entity_id: sale.entity_id, reason: "mistake", voided_by_device: a }]);

    const audit = AuditPage.parse(await read(branch, `audit?kind=rejection&device=${c}&limit=2`, viewerToken));
    expect(audit.entries.map((e) => e.event_id)).toEqual([third.id, second.id]);
    expect(audit.next_before).toBe(audit.entries[1]!.id);
  });

  it("refuses a role that may not observe (403), a bad parameter (400, named), what the branch never had (404) and a write (405)", async () => {
    const branch = fresh("dash-refusals");
    const viewerToken = await tokenFor(branch, newId(), "viewer");
    for (const role of ["cashier", "staff"] as const) {
      const response = await call("GET", branch, "dashboard/devices", await tokenFor(branch, newId(), role));
      expect(response.status, role).toBe(403);
      expect(await response.json()).toEqual({ error: "forbidden", message: `role ${role} may not observe` });
    }
    const bad = await call("GET", branch, "dashboard/rejections?limit=500", viewerToken);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "bad_request", message: 'limit must be an integer from 1 to 200, received "500"' });
    expect((await call("GET", branch, "dashboard/money?from=2026-01-01&to=2026-12-31", viewerToken)).status).toBe(400);
    const unknown = await call("GET", branch, `dashboard/rejections/${f.nextId()}`, viewerToken);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "not_found" });
    expect((await call("GET", branch, `dashboard/entities/${f.nextId()}/history`, viewerToken)).status).toBe(404);
    expect((await call("GET", branch, "dashboard/nothing", viewerToken)).status).toBe(404);
    expect((await call("POST", branch, "dashboard/devices", viewerToken, {})).status).toBe(405);
  });
});
