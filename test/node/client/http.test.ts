/**
 * The browser client's HTTP side in Chromium against the real server: the dashboard's reads, acting
 * as a manager (revoke, resolve, settings), the push/changes fallbacks in v6 shapes, and `enroll`
 * with a one-time code; refusals, a network failure and an answer that does not match its schema
 * all come back as ApiResult values.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { ApiResult } from "../../../client/index.js";
import { makeEventFactory } from "../../support/events.js";
import { installIdOf, NodeClient, tokenFor } from "../../support/server.js";
import { clientHarness, stateOf } from "./harness.js";

const h = clientHarness();
const MANAGER = "01936f3c-0000-7000-8000-0000000003d1";
const TILL = "01936f3c-0000-7000-8000-0000000003d2";
const VIEWER = "01936f3c-0000-7000-8000-0000000003d3";
const f = makeEventFactory(17);

let branchCount = 0;
const newBranch = (what: string) => `client-${what}-${Date.now().toString(36)}-${++branchCount}`;

/** Runs `method(...args)` on a BranchApi made in the page for `device` with `role`. */
async function call(page: Page, branch: string, device: string, role: "manager" | "staff" | "viewer", method: string, ...args: unknown[]): Promise<ApiResult<Record<string, unknown>>> {
  const token = await tokenFor(branch, device, role);
  return page.evaluate(
    ([server, b, t, m, a]) => {
      const api = new window.sv.BranchApi({ server, branch: b, token: t }) as unknown as Record<string, (...x: unknown[]) => Promise<ApiResult<Record<string, unknown>>>>;
      return api[m]!(...a);
    },
    [h.server.url.origin, branch, token, method, args] as const,
  );
}

/** A branch where a till made a project, won one edit, lost another (version_conflict) and rang up a sale. */
async function branchWithAConflict(branch: string) {
  const till = await NodeClient.open(h.server, branch, TILL, "staff");
  const create = f.createProject(TILL);
  const won = f.updateProject(TILL, create.entity_id, { title: "A" }, { base: 1 });
  const lost = f.updateProject(TILL, create.entity_id, { title: "B" }, { base: 1 });
  const sale = f.sale(TILL);
  till.send({ type: "push", batch_id: f.nextId(), events: [create, won, lost, sale] });
  const { verdicts } = await till.next("verdicts");
  expect(verdicts.map((v) => v.status)).toEqual(["confirmed", "confirmed", "rejected", "confirmed"]);
  till.close();
  return { create, lost };
}

describe("the browser client's HTTP side", { timeout: 90_000 }, () => {
  it("reads every dashboard view, each answer checked against its schema", async () => {
    const branch = newBranch("reads");
    const { create, lost } = await branchWithAConflict(branch);
    const page = await h.page();

    const devices = await call(page, branch, VIEWER, "viewer", "devices");
    expect(devices.ok).toBe(true);
    expect(devices.ok && (devices.value.devices as Array<{ device_id: string }>).map((d) => d.device_id)).toContain(TILL);
    const rejections = await call(page, branch, VIEWER, "viewer", "rejections", { limit: 10 });
    expect(rejections).toMatchObject({ ok: true, value: { total: 1, next_before: null, rejections: [{ event_id: lost.id, code: "version_conflict", device_id: TILL }] } });
    const detail = await call(page, branch, VIEWER, "viewer", "rejection", lost.id);
    expect(detail).toMatchObject({ ok: true, value: { summary: { event_id: lost.id }, verdict: { status: "rejected", code: "version_conflict" }, attempted: { operation: "update", base_version: 1 } } });
    const timeline = await call(page, branch, VIEWER, "viewer", "timeline", {});
    expect(timeline.ok && timeline.value.by_code).toEqual([expect.objectContaining({ code: "version_conflict", count: 1 })]);
    const history = await call(page, branch, VIEWER, "viewer", "history", create.entity_id, { limit: 10 });
    expect(history).toMatchObject({ ok: true, value: { entity_id: create.entity_id, entity_type: "project" } });
    expect(history.ok && (history.value.versions as unknown[]).length).toBe(2);
    expect(history.ok && (history.value.rejections as Array<{ event_id: string }>).map((r) => r.event_id)).toEqual([lost.id]);
    const money = await call(page, branch, VIEWER, "viewer", "money", {});
    expect(money.ok && (money.value.rows as unknown[]).length).toBeGreaterThan(0);
    const audit = await call(page, branch, VIEWER, "viewer", "audit", { kind: "rejection" });
    expect(audit.ok && (audit.value.entries as Array<{ event_id: string }>).map((e) => e.event_id)).toEqual([lost.id]);

    // Refusals are values: a bad parameter (named), an unknown id, a role that may not.
    expect(await call(page, branch, VIEWER, "viewer", "rejections", { limit: 500 })).toMatchObject({ ok: false, status: 400, error: "bad_request", message: expect.stringContaining("limit") });
    expect(await call(page, branch, VIEWER, "viewer", "rejection", f.nextId())).toMatchObject({ ok: false, status: 404, error: "not_found" });
    expect(await call(page, branch, TILL, "staff", "devices")).toMatchObject({ ok: false, status: 403, error: "forbidden" });
  });

  it("acts as a manager: resolves a rejection, reads settings, revokes a device; a viewer may not", async () => {
    const branch = newBranch("acts");
    const { lost } = await branchWithAConflict(branch);
    const page = await h.page();
    expect(await call(page, branch, VIEWER, "viewer", "resolve", lost.id, { action: "keep_server", note: "spoke to Nimal" })).toMatchObject({ ok: false, status: 403, error: "forbidden" });
    expect(await call(page, branch, MANAGER, "manager", "resolve", lost.id, { action: "keep_server", note: "spoke to Nimal" })).toMatchObject({ ok: true, value: { event_id: lost.id, resolved_device: MANAGER, already: false } });
    expect(await call(page, branch, MANAGER, "manager", "settings")).toMatchObject({ ok: true, value: { studio: expect.any(Object) } });
    expect(await call(page, branch, VIEWER, "viewer", "settings")).toMatchObject({ ok: false, status: 403 });
    expect(await call(page, branch, MANAGER, "manager", "revoke", TILL, "lost till")).toMatchObject({ ok: true, value: { device_id: TILL, already: false } });
    expect(await call(page, branch, TILL, "staff", "changes", 0, 10)).toMatchObject({ ok: false, status: 403, error: "device_revoked" });
  });

  it("pushes and pulls over HTTP in v6 shapes when the socket is down", async () => {
    const branch = newBranch("fallback");
    const page = await h.page();
    const create = f.createProject(TILL);
    const sale = f.sale(TILL);
    const pushed = await call(page, branch, TILL, "staff", "push", [create, sale]);
    expect(pushed).toMatchObject({ ok: true, value: { type: "verdicts", verdicts: [{ status: "confirmed", seq: 1 }, { status: "confirmed", seq: 2, official_invoice_no: null }] } });
    const changes = await call(page, branch, TILL, "staff", "changes", 0, 1);
    expect(changes).toMatchObject({ ok: true, value: { type: "changes", cursor: 1, head: 2, more: true } });
    const rest = await call(page, branch, TILL, "staff", "changes", 1);
    expect(rest).toMatchObject({ ok: true, value: { cursor: 2, more: false } });
  });

  it("a web app on another origin uses the API as on the server's own: pushes, reads the dashboard, and reads a refusal as a refusal (CORS)", async () => {
    const branch = newBranch("cross-origin");
    const page = await h.page({ crossOrigin: true });
    expect(new URL(page.url()).origin).not.toBe(h.server.url.origin);
    const pushed = await call(page, branch, TILL, "staff", "push", [f.createProject(TILL)]);
    expect(pushed).toMatchObject({ ok: true, value: { verdicts: [{ status: "confirmed", seq: 1 }] } });
    const board = await call(page, branch, MANAGER, "manager", "devices");
    expect(board).toMatchObject({ ok: true, value: { head: 1 } });
    // A staff token may not observe: the page reads the server's 403 (not a blind network error), so
    // the client stops instead of retrying.
    const refused = await call(page, branch, TILL, "staff", "devices");
    expect(refused).toMatchObject({ ok: false, status: 403, error: "forbidden" });
  });

  it("no answer is status 0 `network`; an answer of the wrong shape is `invalid_response`, never trusted", async () => {
    const branch = newBranch("shapes");
    const page = await h.page();
    const token = await tokenFor(branch, VIEWER, "viewer");
    const results = await page.evaluate(
      async ([server, b, t]) => {
        const closedPort = new window.sv.BranchApi({ server: "http://127.0.0.1:9", branch: b, token: t });
        // The real server's answer to another route (a changes page) where the device board is expected.
        const wrongRoute = new window.sv.BranchApi({ server, branch: b, token: t, fetch: (url, init) => fetch(String(url).replace("dashboard/devices", "changes"), init) });
        return [await closedPort.devices(), await wrongRoute.devices()];
      },
      [h.server.url.origin, branch, token] as const,
    );
    expect(results[0]).toMatchObject({ ok: false, status: 0, error: "network" });
    expect(results[1]).toMatchObject({ ok: false, status: 200, error: "invalid_response" });
  });

  it("enroll: a manager's one-time code becomes a device token the client connects with; a wrong or used code is refused", async () => {
    const branch = newBranch("enroll");
    const issued = await fetch(new URL(`/v1/branches/${branch}/enrollments`, h.server.url), {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor(branch, MANAGER, "manager")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ role: "viewer", user: "owner-anusha" }),
    });
    expect(issued.status).toBe(201);
    const { code } = (await issued.json()) as { code: string };
    const page = await h.page();
    const enroll = (typed: string) => page.evaluate(([server, b, c]) => window.sv.enroll({ server, branch: b, code: c }), [h.server.url.origin, branch, typed] as const);

    expect(await enroll("ABCD-EFGH")).toMatchObject({ ok: false, status: 401, error: "enrollment_code_wrong" });
    const enrolled = await enroll(code.toLowerCase().replace("-", " "));
    expect(enrolled).toMatchObject({ ok: true, value: { role: "viewer", user: "owner-anusha", branch } });
    expect(await enroll(code)).toMatchObject({ ok: false, status: 410, error: "enrollment_code_used" });
    if (!enrolled.ok) return;

    await page.evaluate((o) => {
      window.make("enrolled", o);
      window.made.enrolled!.client.start();
    }, { server: h.server.url.origin, branch, token: enrolled.value.token, deviceId: enrolled.value.device_id, installId: installIdOf(enrolled.value.device_id) });
    await expect.poll(async () => (await stateOf(page, "enrolled")).state, { timeout: 20_000 }).toBe("open");
  });
});
