/**
 * Leases on high-risk field groups (protocol v7, issue 17), against the real branch Durable Object:
 * devices race for one lease, the loser's edit of the guarded fields is refused with the holder
 * named while its edit of other fields goes through, leases end on release, on expiry (the branch's
 * clock, the alarm) and when a manager breaks one (audited), and a v6 client keeps syncing.
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Lease, type LeaseResult, PROTOCOL_VERSION, type Verdict } from "../../protocol/index.js";
import { useClock } from "../../durable/branch-do.js";
import * as ex from "../fixtures/examples.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, ORIGIN, openSocket, type TestClient, tokenFor } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const M = "01936f3c-0000-7000-8000-0000000000c3";

let branchNo = 0;
const newBranch = (name: string) => `leases-${name}-${Date.now().toString(36)}-${branchNo++}`;

function leaseRequest(action: "acquire" | "release" | "break", entityId: string, group = "payment", extra: Record<string, unknown> = {}) {
  return { type: "lease", request_id: crypto.randomUUID(), action, entity_id: entityId, group, ...extra };
}

async function push(client: TestClient, events: unknown[]): Promise<Verdict[]> {
  const batch = newId();
  client.send({ type: "push", batch_id: batch, events });
  const verdicts = await client.next("verdicts", { skip: true });
  expect(verdicts.batch_id).toBe(batch);
  return verdicts.verdicts;
}

/** A branch with one issued invoice (created by A), and the factory that made it. */
async function withInvoice(branch: string, seed: number) {
  const f = makeEventFactory(seed);
  const a = await connect(branch, A, "manager");
  const invoiceId = f.nextId();
  const create = f.event(A, "invoice", invoiceId, "create", { ...ex.invoice, project_id: null });
  expect(await push(a, [create])).toMatchObject([{ status: "confirmed", version: 1 }]);
  return { f, a, invoiceId };
}

/** The next `leases` message whose leases match `expected` (earlier ones are passed over). */
async function untilLeases(client: TestClient, expected: unknown[]): Promise<Lease[]> {
  for (;;) {
    const { leases } = await client.next("leases", { skip: true });
    if (JSON.stringify(leases) === JSON.stringify(expected)) return leases;
  }
}

const stubOf = (branch: string) => env.BRANCH.get(env.BRANCH.idFromName(branch));

describe("leases on high-risk fields", () => {
  it("two devices race for one lease: exactly one wins, the other is told who holds it", async () => {
    const branch = newBranch("race");
    const { a, invoiceId } = await withInvoice(branch, 1);
    const b = await connect(branch, B, "staff");
    const fromA = leaseRequest("acquire", invoiceId);
    const fromB = leaseRequest("acquire", invoiceId);
    a.send(fromA);
    b.send(fromB);
    const answers = [await a.next("lease_result", { skip: true }), await b.next("lease_result", { skip: true })] as LeaseResult[];
    const granted = answers.filter((r) => r.outcome === "granted");
    const refused = answers.filter((r) => r.outcome === "refused");
    expect(granted).toHaveLength(1);
    expect(refused).toHaveLength(1);
    const holder = granted[0]!.lease!;
    expect(refused[0]).toMatchObject({ refusal: "held", lease: holder });
    expect(refused[0]!.message).toContain(holder.device_id);
    expect(holder).toMatchObject({ entity_id: invoiceId, entity_type: "invoice", group: "payment" });
    expect(holder.expires_at_ms - holder.acquired_at_ms).toBe(60_000);
    // Every v7 connection is told the branch's leases (the holder after its answer), and a new one in its welcome.
    const winner = granted[0] === answers[0] ? a : b;
    expect((await winner.next("leases")).leases).toEqual([holder]);
    expect(await connectWelcomeLeases(branch)).toEqual([holder]);
    a.close();
    b.close();
  });

  it("refuses the other device's edit of the leased fields, naming the holder, and accepts its other edits and the holder's", async () => {
    const branch = newBranch("edit");
    const { f, a, invoiceId } = await withInvoice(branch, 2);
    a.send(leaseRequest("acquire", invoiceId));
    const granted = await a.next("lease_result", { skip: true });
    expect(granted.outcome).toBe("granted");
    const b = await connect(branch, B, "staff");
    // B's copy is version 1, like A's: B takes a payment (guarded) and, in another event, edits notes (not guarded).
    const payment = f.event(B, "invoice", invoiceId, "update", { payments: [...ex.invoice.payments, { method: "cash", amount_minor: 1_000, paid_at: "2026-11-25T05:00:00.000Z", reference: null }] }, { base: 1 });
    const notes = f.event(B, "invoice", invoiceId, "update", { notes: "call before delivery" }, { base: 1 });
    const [locked, accepted] = await push(b, [payment, notes]);
    expect(locked).toMatchObject({
      status: "rejected",
      code: "entity_locked",
      detail: { field: "payment", expected: A, received: B },
    });
    expect((locked as { message: string }).message).toContain(`device ${A}`);
    expect(accepted).toMatchObject({ status: "confirmed", version: 2 });
    // The holder's own edit of the guarded fields goes through.
    const own = f.event(A, "invoice", invoiceId, "update", { payments: [...ex.invoice.payments, { method: "cash", amount_minor: 2_000, paid_at: "2026-11-25T05:00:00.000Z", reference: null }] }, { base: 2 });
    const [mine] = await push(a, [own]);
    expect(mine).toMatchObject({ status: "confirmed", version: 3 });
    a.close();
    b.close();
  });

  it("a lease ends at its time on the branch's clock: the alarm tells every device, and the edit is accepted", async () => {
    const branch = newBranch("expiry");
    const { f, a, invoiceId } = await withInvoice(branch, 3);
    a.send(leaseRequest("acquire", invoiceId, "payment", { ttl_ms: 10_000 }));
    const { lease } = await a.next("lease_result", { skip: true });
    await a.next("leases", { skip: true });
    const b = await connect(branch, B, "staff");
    const stub = stubOf(branch);
    // Just before its time the lease holds; the alarm ends it just after.
    await runInDurableObject(stub, (instance) => useClock(instance, () => lease!.expires_at_ms - 1));
    const early = f.event(B, "invoice", invoiceId, "update", { status: "draft" }, { base: 1 });
    expect((await push(b, [early]))[0]).toMatchObject({ code: "entity_locked" });
    await runInDurableObject(stub, (instance) => useClock(instance, () => lease!.expires_at_ms));
    await runDurableObjectAlarm(stub);
    for (const c of [a, b]) await untilLeases(c, []);
    const late = f.event(B, "invoice", invoiceId, "update", { status: "draft" }, { base: 1 });
    expect((await push(b, [late]))[0]).toMatchObject({ status: "confirmed", version: 2 });
    // Renewing keeps it: asking again before the end moves the end, not the start.
    await runInDurableObject(stub, (instance) => useClock(instance, () => lease!.expires_at_ms + 1_000));
    b.send(leaseRequest("acquire", invoiceId));
    const first = (await b.next("lease_result", { skip: true })).lease!;
    await runInDurableObject(stub, (instance) => useClock(instance, () => lease!.expires_at_ms + 30_000));
    b.send(leaseRequest("acquire", invoiceId));
    const renewed = (await b.next("lease_result", { skip: true })).lease!;
    expect(renewed.acquired_at_ms).toBe(first.acquired_at_ms);
    expect(renewed.expires_at_ms).toBe(lease!.expires_at_ms + 30_000 + 60_000);
    a.close();
    b.close();
  });

  it("a holder that crashes keeps the lease until it ends; then another device takes it", async () => {
    const branch = newBranch("crash");
    const { a, invoiceId } = await withInvoice(branch, 4);
    a.send(leaseRequest("acquire", invoiceId));
    const { lease } = await a.next("lease_result", { skip: true });
    a.ws.close(1000, "crash"); // the till goes away without releasing
    const b = await connect(branch, B, "staff");
    expect((await connectWelcomeLeases(branch))).toEqual([lease]);
    b.send(leaseRequest("acquire", invoiceId));
    expect(await b.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "held" });
    await runInDurableObject(stubOf(branch), (instance) => useClock(instance, () => lease!.expires_at_ms + 1));
    b.send(leaseRequest("acquire", invoiceId));
    expect(await b.next("lease_result", { skip: true })).toMatchObject({ outcome: "granted", lease: { device_id: B } });
    b.close();
  });

  it("an edit queued offline while someone held the lease is refused when it is pushed", async () => {
    const branch = newBranch("offline");
    const { f, a, invoiceId } = await withInvoice(branch, 5);
    // B made its edit offline (built on version 1); meanwhile A took the lease.
    const offlineEdit = f.event(B, "invoice", invoiceId, "update", { payments: [] }, { base: 1 });
    a.send(leaseRequest("acquire", invoiceId));
    await a.next("lease_result", { skip: true });
    const b = await connect(branch, B, "staff");
    expect((await push(b, [offlineEdit]))[0]).toMatchObject({ status: "rejected", code: "entity_locked", detail: { expected: A } });
    // Pushed again (a lost answer), it gets the same verdict even after the lease ended (I3).
    await runInDurableObject(stubOf(branch), (instance) => useClock(instance, () => Date.now() + 600_000));
    const again = newId();
    b.send({ type: "push", batch_id: again, events: [offlineEdit] });
    expect((await b.next("verdicts", { skip: true })).verdicts[0]).toMatchObject({ code: "entity_locked" });
    a.close();
    b.close();
  });

  it("a manager breaks a lease (audited, everyone told); a cashier may not; release ends one", async () => {
    const branch = newBranch("break");
    const { a, invoiceId } = await withInvoice(branch, 6);
    a.send(leaseRequest("acquire", invoiceId));
    const { lease } = await a.next("lease_result", { skip: true });
    const cashier = await connect(branch, B, "cashier");
    cashier.send(leaseRequest("break", invoiceId));
    expect(await cashier.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "forbidden" });
    cashier.send(leaseRequest("release", invoiceId));
    expect(await cashier.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "not_held" });
    // A role that may never take a payment is told so, not who is taking one.
    cashier.send(leaseRequest("acquire", invoiceId));
    expect(await cashier.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "forbidden", lease: null });
    const manager = await connect(branch, M, "manager");
    manager.send(leaseRequest("break", invoiceId, "payment", { reason: "Till 2 froze" }));
    expect(await manager.next("lease_result", { skip: true })).toMatchObject({ outcome: "broken", lease });
    await untilLeases(a, []);
    const audit = await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/audit`, { headers: { Authorization: `Bearer ${await tokenFor(branch, M, "manager")}` } })).json<{ entries: Array<{ kind: string; message: string; device_id: string }> }>();
    const broken = audit.entries.filter((e) => e.kind === "lease_broken");
    expect(broken).toHaveLength(1);
    expect(broken[0]).toMatchObject({ device_id: M });
    expect(broken[0]!.message).toContain(A);
    expect(broken[0]!.message).toContain("Till 2 froze");
    // Taken again and released by its holder.
    a.send(leaseRequest("acquire", invoiceId));
    expect((await a.next("lease_result", { skip: true })).outcome).toBe("granted");
    a.send(leaseRequest("release", invoiceId));
    expect((await a.next("lease_result", { skip: true })).outcome).toBe("released");
    a.close();
    cashier.close();
    manager.close();
  });

  it("refuses leases that cannot be: a viewer, an unknown entity, a deleted project, the wrong type", async () => {
    const branch = newBranch("refusals");
    const f = makeEventFactory(7);
    const a = await connect(branch, A, "owner");
    const project = f.createProject(A);
    await push(a, [project]);
    const viewer = await connect(branch, B, "viewer");
    viewer.send(leaseRequest("acquire", project.entity_id, "package"));
    expect(await viewer.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "forbidden" });
    a.send(leaseRequest("acquire", f.nextId(), "package"));
    expect(await a.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "not_found" });
    a.send(leaseRequest("acquire", project.entity_id, "payment")); // a project has no payments
    expect(await a.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "not_found" });
    await push(a, [f.deleteProject(A, project.entity_id, { base: 1 })]);
    a.send(leaseRequest("acquire", project.entity_id, "package"));
    expect(await a.next("lease_result", { skip: true })).toMatchObject({ outcome: "refused", refusal: "ended" });
    // A bad request is a non-fatal malformed_message naming it.
    const bad = leaseRequest("acquire", project.entity_id, "price");
    a.send(bad);
    expect(await a.next("error", { skip: true })).toMatchObject({ code: "malformed_message", fatal: false, in_reply_to: bad.request_id });
    a.close();
    viewer.close();
  });

  it("a v6 client is sent none of it: its welcome has no leases, `lease` is malformed, and a locked edit is operation_not_allowed", async () => {
    const branch = newBranch("v6");
    const { f, a, invoiceId } = await withInvoice(branch, 8);
    a.send(leaseRequest("acquire", invoiceId));
    await a.next("lease_result", { skip: true });
    const old = await openSocket(branch, await tokenFor(branch, B, "staff"));
    if (old instanceof Response) throw new Error(`upgrade refused: ${old.status}`);
    // Read as v6 reads them: raw frames (the test inbox decodes v7's shapes, where welcome has leases).
    const frames: Array<Record<string, unknown>> = [];
    old.ws.addEventListener("message", (event) => {
      frames.push(JSON.parse(event.data as string) as Record<string, unknown>);
    });
    const frame = async (type: string) => {
      for (let i = 0; i < 200; i++) {
        const at = frames.findIndex((f) => f.type === type);
        if (at >= 0) return frames.splice(at, 1)[0]!;
        await new Promise((r) => setTimeout(r, 25));
      }
      throw new Error(`no ${type} frame`);
    };
    old.send({ type: "hello", protocol_version: 6, device_id: B, cursor: 0, app: "old-desktop/6", install_id: "0193a000-0000-7000-8000-0000000000b2", clock_ms: Date.now() });
    const welcome = await frame("welcome");
    expect(welcome).toMatchObject({ type: "welcome", protocol_version: PROTOCOL_VERSION });
    expect(welcome).not.toHaveProperty("leases");
    const request = leaseRequest("acquire", invoiceId);
    old.send(request);
    expect(await frame("error")).toMatchObject({ code: "malformed_message", fatal: false, in_reply_to: request.request_id });
    const edit = f.event(B, "invoice", invoiceId, "update", { status: "draft" }, { base: 1 });
    old.send({ type: "push", batch_id: newId(), events: [edit] });
    const [verdict] = (await frame("verdicts")).verdicts as Array<Record<string, unknown>>;
    expect(verdict).toMatchObject({ status: "rejected", code: "operation_not_allowed", detail: null });
    expect(verdict!.message).toContain("being edited");
    // A change of the leases reaches v7 connections only.
    a.send(leaseRequest("release", invoiceId));
    expect((await a.next("lease_result", { skip: true })).outcome).toBe("released");
    await untilLeases(a, []);
    old.send({ type: "ping", nonce: 5 });
    await frame("pong");
    expect(frames.filter((f) => f.type === "leases")).toEqual([]);
    a.close();
    old.close();
  });

  it("revoking a device ends its leases at once, and every device is told", async () => {
    const branch = newBranch("revoke");
    const { f, a, invoiceId } = await withInvoice(branch, 10);
    const b = await connect(branch, B, "staff");
    b.send(leaseRequest("acquire", invoiceId));
    expect((await b.next("lease_result", { skip: true })).outcome).toBe("granted");
    expect((await a.next("leases", { skip: true })).leases).toMatchObject([{ device_id: B }]);
    const revoked = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/devices/${B}/revoke`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ reason: "stolen till" }),
    });
    expect(revoked.status).toBe(200);
    await untilLeases(a, []);
    const edit = f.event(A, "invoice", invoiceId, "update", { status: "draft" }, { base: 1 });
    expect((await push(a, [edit]))[0]).toMatchObject({ status: "confirmed" });
    a.close();
    b.close();
  });

  it("HTTP: the leases in force for the dashboard, and lease requests for tools", async () => {
    const branch = newBranch("http");
    const { invoiceId, a } = await withInvoice(branch, 9);
    const call = async (method: string, role: "manager" | "viewer" | "cashier" | "staff", device: string, body?: unknown) => {
      const response = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/leases`, {
        method,
        headers: { Authorization: `Bearer ${await tokenFor(branch, device, role)}`, "Content-Type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: await response.json<Record<string, unknown>>() };
    };
    const took = await call("POST", "staff", B, { action: "acquire", entity_id: invoiceId, group: "payment", ttl_ms: 30_000 });
    expect(took).toMatchObject({ status: 200, body: { outcome: "granted", lease: { device_id: B } } });
    // A live device is told at once.
    expect((await a.next("leases", { skip: true })).leases).toMatchObject([{ device_id: B }]);
    const list = await call("GET", "viewer", M);
    expect(list.status).toBe(200);
    expect((list.body.leases as Lease[]).map((l) => l.device_id)).toEqual([B]);
    expect(await call("POST", "manager", M, { action: "acquire", entity_id: invoiceId, group: "payment" })).toMatchObject({ status: 409, body: { outcome: "refused", refusal: "held", error: "held" } });
    expect(await call("GET", "cashier", B)).toMatchObject({ status: 403 });
    expect(await call("POST", "manager", M, { action: "take", entity_id: invoiceId, group: "payment" })).toMatchObject({ status: 400, body: { error: "bad_request" } });
    expect(await call("POST", "manager", M, { action: "break", entity_id: invoiceId, group: "payment", reason: "left for lunch" })).toMatchObject({ status: 200, body: { outcome: "broken" } });
    expect((await call("GET", "viewer", M)).body.leases).toEqual([]);
    a.close();
  });
});

/** The leases a fresh v7 connection's welcome carries (a third device, owner). */
async function connectWelcomeLeases(branch: string): Promise<Lease[]> {
  const client = await openSocket(branch, await tokenFor(branch, M, "owner"));
  if (client instanceof Response) throw new Error(`upgrade refused: ${client.status}`);
  client.send({ type: "hello", protocol_version: 7, device_id: M, cursor: 0, app: "workers-test/1", install_id: "0193a000-0000-7000-8000-0000000000c3", clock_ms: Date.now() });
  const welcome = await client.next("welcome");
  client.close();
  return welcome.leases ?? [];
}
