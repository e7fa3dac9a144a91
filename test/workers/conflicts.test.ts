/**
 * A manager's resolution of a conflict, through the Worker to the real branch Durable Object: the
 * role is checked, the event must have a stored rejected verdict, the answer is idempotent and one
 * audit entry records who, on which device, and why. And `POST …/push` answers v4's verdicts unless
 * the client asks for v5's (`last_change`).
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "../../protocol/index.js";
import * as ex from "../fixtures/examples.js";
import { makeEventFactory } from "../support/events.js";
import { newId, ORIGIN, tokenFor } from "./support.js";

let n = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;

const call = (method: string, branch: string, path: string, token: string, body?: unknown) =>
  SELF.fetch(`${ORIGIN}/v1/branches/${branch}/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });

const f = makeEventFactory(14);

/** Pushes over HTTP; returns the verdicts as received. */
async function push(branch: string, token: string, events: unknown[], query = ""): Promise<Array<Record<string, unknown>>> {
  const response = await call("POST", branch, `push${query}`, token, { type: "push", batch_id: f.nextId(), events });
  expect(response.status).toBe(200);
  return ((await response.json()) as { verdicts: Array<Record<string, unknown>> }).verdicts;
}

describe("POST /v1/branches/:branch/conflicts/:eventId/resolution", () => {
  it("only a manager resolves a rejected change, once, audited with user, device, event and note", async () => {
    const branch = fresh("conflict-resolve");
    const till = newId();
    const manager = newId();
    const viewerToken = await tokenFor(branch, till, "viewer");
    const staffToken = await tokenFor(branch, newId(), "staff");
    const managerToken = await tokenFor(branch, manager, "manager");
    const refused = f.sale(till);
    expect(await push(branch, viewerToken, [refused])).toMatchObject([{ status: "rejected", code: "permission_denied" }]);
    const path = `conflicts/${refused.id}/resolution`;
    const body = { action: "keep_server", note: "customer refunded in cash" };

    const staff = await call("POST", branch, path, staffToken, body);
    expect(staff.status).toBe(403);
    expect(await staff.json()).toEqual({ error: "forbidden", message: "role staff may not resolve conflicts" });

    const noNote = await call("POST", branch, path, managerToken, { action: "keep_server", note: "" });
    expect(noNote.status).toBe(400);
    expect(((await noNote.json()) as { message: string }).message).toMatch(/^note: /);
    expect((await call("POST", branch, path, managerToken, { action: "merge", note: "x" })).status).toBe(400);
    expect((await call("POST", branch, `conflicts/not-an-id/resolution`, managerToken, body)).status).toBe(400);

    const unknown = await call("POST", branch, `conflicts/${f.nextId()}/resolution`, managerToken, body);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: "not_found" });
    const sale = f.sale(manager, undefined, "T2-000001");
    expect(await push(branch, managerToken, [sale])).toMatchObject([{ status: "confirmed" }]);
    const confirmed = await call("POST", branch, `conflicts/${sale.id}/resolution`, managerToken, body);
    expect(confirmed.status).toBe(409);
    expect(await confirmed.json()).toMatchObject({ error: "not_rejected" });

    const first = await call("POST", branch, path, managerToken, body);
    expect(first.status).toBe(200);
    const resolution = (await first.json()) as Record<string, unknown>;
    expect(resolution).toEqual({
      event_id: refused.id,
      action: "keep_server",
      note: "customer refunded in cash",
      resolved_by: `user-${manager.slice(-4)}`,
      resolved_device: manager,
      resolved_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      already: false,
    });
    const again = await call("POST", branch, path, await tokenFor(branch, newId(), "owner"), { action: "keep_server", note: "second try" });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ...resolution, already: true });

    const audit = await call("GET", branch, "audit?limit=1000", managerToken);
    const entries = ((await audit.json()) as { entries: Array<Record<string, unknown>> }).entries.filter((e) => e.kind === "conflict_resolved");
    expect(entries).toEqual([
      expect.objectContaining({
        kind: "conflict_resolved",
        user_id: `user-${manager.slice(-4)}`,
        device_id: manager,
        role: "manager",
        event_id: refused.id,
        entity_id: refused.entity_id,
        code: "permission_denied",
        message: "keep_server: customer refunded in cash",
      }),
    ]);
  });
});

describe("POST …/push and protocol v5's last_change", () => {
  it("answers v4's verdicts by default and v5's with ?protocol_version=5", async () => {
    const branch = fresh("conflict-http-push");
    const owner = newId();
    const token = await tokenFor(branch, owner, "owner");
    const project = f.createProject(owner);
    await push(branch, token, [project, { ...f.deleteProject(owner, project.entity_id, { base: 1 }), payload: { reason: "duplicate" } }]);
    const v4 = await push(branch, token, [f.updateProject(owner, project.entity_id, { title: "Mine" }, { base: 1 })]);
    expect(v4[0]).toMatchObject({ status: "rejected", code: "entity_deleted" });
    expect(v4[0]).not.toHaveProperty("last_change");
    const v5 = await push(branch, token, [f.updateProject(owner, project.entity_id, { title: "Mine" }, { base: 1 })], "?protocol_version=5");
    expect(v5[0]).toMatchObject({ status: "rejected", last_change: { seq: 2, user_id: `user-${owner.slice(-4)}`, device_id: owner, operation: "delete", reason: "duplicate" } });
    for (const bad of ["abc", "0", String(PROTOCOL_VERSION + 1)]) {
      const response = await call("POST", branch, `push?protocol_version=${bad}`, token, { type: "push", batch_id: f.nextId(), events: [f.createProject(owner)] });
      expect(response.status, bad).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(new RegExp(`^protocol_version must be an integer from 1 to ${PROTOCOL_VERSION}`));
    }
  });
});

describe("GET …/changes and protocol v5's invoice numbers", () => {
  it("answers v4's entities by default (no official_invoice_no) and v5's with ?protocol_version=5", async () => {
    const branch = fresh("changes-http-version");
    const owner = newId();
    const token = await tokenFor(branch, owner, "owner");
    const issued = f.event(owner, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: null, status: "issued", payments: [], issued_on: "2026-11-20" });
    const verdicts = await push(branch, token, [issued], "?protocol_version=5");
    expect(verdicts).toMatchObject([{ status: "confirmed", official_invoice_no: 1 }]);
    const read = async (query: string) => {
      const response = await call("GET", branch, `changes?since=0${query}`, token);
      expect(response.status, query).toBe(200);
      return ((await response.json()) as { changes: Array<{ entity: Record<string, unknown> }> }).changes.map((c) => c.entity);
    };
    expect((await read(""))[0]).not.toHaveProperty("official_invoice_no");
    expect((await read("&protocol_version=4"))[0]).not.toHaveProperty("official_invoice_no");
    expect((await read("&protocol_version=5"))[0]).toMatchObject({ official_invoice_no: 1 });
    expect((await call("GET", branch, `changes?since=0&protocol_version=${PROTOCOL_VERSION + 1}`, token)).status).toBe(400);
  });
});
