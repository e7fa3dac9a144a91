/**
 * The branch Durable Object over real WebSockets inside workerd: the acceptance scenarios of the
 * cloud truth. Each test uses its own branch (its own Durable Object).
 */
import { abortAllDurableObjects, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type ConfirmedVerdict, PROTOCOL_VERSION } from "../../protocol/index.js";
import { type SyncEvent } from "../../domain/index.js";
import * as ex from "../fixtures/examples.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, ORIGIN, pullAll, tokenFor } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
let n = 0;
const freshBranch = () => `sync-${Date.now().toString(36)}-${++n}`;

const push = (events: SyncEvent[]) => ({ type: "push", batch_id: newId(), events });

describe("the seed's scenario over real WebSockets", () => {
  it("A's offline edit of a project B deleted comes back entity_deleted, and B's tombstone reaches A", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(1);
    const a = await connect(branch, A);
    const create = f.createProject(A);
    a.send(push([create]));
    expect((await a.next("verdicts")).verdicts[0]).toMatchObject({ status: "confirmed", version: 1 });
    await a.next("live");
    a.close(); // A goes offline and edits X locally.
    const offlineEdit = f.updateProject(A, create.entity_id, { notes: "offline edit" }, { base: 1 });

    const b = await connect(branch, B, "manager", 1);
    b.send(push([f.deleteProject(B, create.entity_id, { base: 1 })]));
    expect((await b.next("verdicts")).verdicts[0]).toMatchObject({ status: "confirmed", version: 2 });

    const back = await connect(branch, A, "owner", 1);
    back.send(push([offlineEdit]));
    const verdict = (await back.next("verdicts")).verdicts[0]!;
    expect(verdict).toMatchObject({
      event_id: offlineEdit.id,
      status: "rejected",
      code: "entity_deleted",
      message: "Project was deleted remotely",
      server_entity: { entity_id: create.entity_id, version: 2, deleted: true, data: null },
    });
    const { changes } = await pullAll(back, 1);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ seq: 2, operation: "delete", device_id: B, entity: { deleted: true } });
    back.close();
    b.close();
  });
});

describe("exactly-once effect (I3) over real sockets", () => {
  it("the same batch sent three times commits once and returns identical verdicts", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(2);
    const a = await connect(branch, A);
    const batch = push([f.createProject(A), f.sale(A), f.sale(A)]);
    const answers: string[] = [];
    for (let i = 0; i < 3; i++) {
      a.send(batch);
      answers.push(JSON.stringify((await a.next("verdicts", { skip: true })).verdicts));
    }
    expect(new Set(answers).size).toBe(1);
    const { changes } = await pullAll(a);
    expect(changes.map((c) => c.seq)).toEqual([1, 2, 3]);
    a.close();
  });

  it("a batch re-sent after the socket was cut between commit and verdict commits once", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(3);
    const batch = push([f.createProject(A), f.sale(A)]);
    const first = await connect(branch, A);
    first.send(batch);
    first.close(); // cut before reading the verdicts
    const second = await connect(branch, A);
    second.send(batch);
    const again = (await second.next("verdicts", { skip: true })).verdicts as ConfirmedVerdict[];
    expect(again.map((v) => v.status)).toEqual(["confirmed", "confirmed"]);
    second.send(batch);
    expect(JSON.stringify((await second.next("verdicts", { skip: true })).verdicts)).toBe(JSON.stringify(again));
    const { changes } = await pullAll(second);
    expect(changes.map((c) => c.event_id)).toEqual(batch.events.map((e) => e.id));
    second.close();
  });
});

describe("conflicts, permissions and POS rules over real sockets", () => {
  it("rejects a stale edit and the local edit chained on it, and never applies them", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(4);
    const a = await connect(branch, A);
    const b = await connect(branch, B);
    const create = f.createProject(A);
    a.send(push([create]));
    await a.next("verdicts");
    b.send(push([f.updateProject(B, create.entity_id, { title: "B wins" }, { base: 1 })]));
    await b.next("verdicts", { skip: true });
    const e1 = f.updateProject(A, create.entity_id, { title: "A1" }, { base: 1 });
    const e2 = f.updateProject(A, create.entity_id, { notes: "A2" }, { dep: e1.id });
    a.send(push([e1, e2]));
    const verdicts = (await a.next("verdicts", { skip: true })).verdicts;
    expect(verdicts.map((v) => (v.status === "rejected" ? v.code : v.status))).toEqual(["version_conflict", "depends_on_rejected"]);
    const { changes } = await pullAll(a);
    expect(changes.at(-1)!.entity).toMatchObject({ version: 2, data: { title: "B wins" } });
    a.close();
    b.close();
  });

  it("enforces the role matrix: a cashier sells but cannot void; a viewer cannot sell", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(5);
    const cashier = await connect(branch, A, "cashier");
    const sale = f.sale(A);
    cashier.send(push([sale, f.voidOrder(A, sale.entity_id, { base: 1 })]));
    const [sold, voided] = (await cashier.next("verdicts")).verdicts;
    expect(sold).toMatchObject({ status: "confirmed", official_receipt_no: 1 });
    expect(voided).toMatchObject({ status: "rejected", code: "permission_denied", message: "Your role (cashier) may not void a POS order" });
    const viewer = await connect(branch, B, "viewer");
    viewer.send(push([f.sale(B)]));
    expect((await viewer.next("verdicts")).verdicts[0]).toMatchObject({ code: "permission_denied" });
    cashier.close();
    viewer.close();
  });

  it("keeps POS append-only and the ledger exact", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(6);
    const manager = await connect(branch, A, "manager");
    const s1 = f.sale(A, undefined, "A-1", 410_000);
    const s2 = f.sale(A, undefined, "A-2", 99_999);
    manager.send(
      push([
        s1,
        s2,
        f.correction(A, s1.entity_id, undefined, -250_000),
        f.voidOrder(A, s2.entity_id, { base: 1 }),
        f.voidOrder(A, s2.entity_id, { base: 2 }),
        f.correction(A, newId()),
        f.event(A, "pos_order", s1.entity_id, "update", { total_minor: 1 }, { base: 1 }),
        f.event(A, "pos_order", s1.entity_id, "delete", { reason: "x" }, { base: 1 }),
      ]),
    );
    const codes = (await manager.next("verdicts")).verdicts.map((v) => (v.status === "rejected" ? v.code : v.status));
    expect(codes).toEqual(["confirmed", "confirmed", "confirmed", "confirmed", "already_voided", "reference_not_found", "append_only", "append_only"]);
    const ledger = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/ledger?day=2026-11-25`, {
      headers: { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` },
    });
    expect(await ledger.json()).toEqual({
      day: "2026-11-25",
      time_zone: "Asia/Colombo",
      rows: [
        { day: "2026-11-25", device_id: A, currency: "LKR", sales_count: 2, sales_minor: 509_999, corrections_count: 1, corrections_minor: -250_000, voids_count: 1, voids_minor: 99_999, net_minor: 160_000 },
      ],
    });
    manager.close();
  });
});

describe("every event gets its verdict (I2, I12) inside workerd", () => {
  it("a poison event in the middle of a batch is its own invalid_payload; the others commit and the socket stays open", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(51);
    const client = await connect(branch, A, "manager");
    const poison = f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, tax_rate_bp: 1e308 });
    const events = [f.createProject(A), poison, f.sale(A)];
    client.send({ type: "push", batch_id: newId(), events });
    const { verdicts } = await client.next("verdicts", { skip: true });
    expect(verdicts.map((v) => (v.status === "confirmed" ? "confirmed" : v.code))).toEqual(["confirmed", "invalid_payload", "confirmed"]);
    // The savepoint of the poison event rolled back nothing of its neighbours: seqs 1 and 2.
    expect(verdicts.flatMap((v) => (v.status === "confirmed" ? [v.seq] : []))).toEqual([1, 2]);
    client.send({ type: "ping", nonce: 7 });
    expect(await client.next("pong", { skip: true })).toEqual({ type: "pong", nonce: 7 });
    client.close();
  });
});

describe("bad frames and protocol versions", () => {
  it("answers oversize and malformed frames with a clear error and no state change", async () => {
    const branch = freshBranch();
    const a = await connect(branch, A);
    a.send("{not json");
    expect(await a.next("error")).toMatchObject({ code: "malformed_message", fatal: false, message: "message is not valid JSON" });
    a.send(JSON.stringify({ type: "ping", nonce: 1, pad: "x".repeat(950_000) }));
    expect(await a.next("error")).toMatchObject({ code: "frame_too_large", fatal: false });
    a.send({ type: "push", batch_id: newId(), events: [{ id: "not-a-uuid" }] });
    expect(await a.next("error")).toMatchObject({ code: "malformed_message" });
    const { changes } = await pullAll(a);
    expect(changes).toEqual([]);
    a.close();
  });

  it("closes a too-old and a too-new client with the documented codes", async () => {
    const branch = freshBranch();
    for (const [version, code, reason] of [[0, 4010, "protocol_too_old"], [PROTOCOL_VERSION + 1, 4011, "protocol_too_new"]] as const) {
      const { openSocket } = await import("./support.js");
      const client = await openSocket(branch, await tokenFor(branch, A));
      if (client instanceof Response) throw new Error("refused");
      client.send({ type: "hello", protocol_version: version, device_id: A, cursor: 0, app: "old/0" });
      expect(await client.next("error")).toMatchObject({ code: reason, fatal: true });
      expect(await client.waitClosed()).toEqual({ code, reason });
    }
  });
});

describe("pull and durability", () => {
  it("returns every one of 20,000 commits exactly once across pages, in order", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(7);
    const a = await connect(branch, A);
    const ids: string[] = [];
    for (let batch = 0; batch < 100; batch++) {
      const events = Array.from({ length: 200 }, (_, i) => f.sale(A, undefined, `A-${batch}-${i}`, 100 + i));
      ids.push(...events.map((e) => e.id));
      a.send(push(events));
      const verdicts = (await a.next("verdicts", { skip: true, timeoutMs: 30_000 })).verdicts;
      expect(verdicts.every((v) => v.status === "confirmed")).toBe(true);
    }
    const { changes, pages } = await pullAll(a, 0, 1_000);
    expect(pages).toBeGreaterThanOrEqual(20);
    expect(changes.map((c) => c.seq)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    expect(changes.map((c) => c.event_id)).toEqual(ids);
    a.close();
  }, 120_000);

  it("keeps its state across a Durable Object restart", async () => {
    const branch = freshBranch();
    const f = makeEventFactory(8);
    const a = await connect(branch, A);
    const events = [f.createProject(A), f.sale(A)];
    a.send(push(events));
    const before = (await a.next("verdicts")).verdicts;
    a.close();
    await abortAllDurableObjects();
    const again = await connect(branch, A);
    again.send(push(events));
    expect((await again.next("verdicts", { skip: true })).verdicts).toEqual(before);
    const { changes } = await pullAll(again);
    expect(changes.map((c) => c.event_id)).toEqual(events.map((e) => e.id));
    again.close();
  });
});
