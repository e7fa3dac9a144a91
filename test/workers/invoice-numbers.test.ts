/**
 * Official invoice numbers on the real branch Durable Object (issue 14, protocol v5): the commit that
 * first makes an invoice issued (or paid) takes the branch's next number, gap-free in commit order;
 * drafts have none, later edits and a void keep it, a re-sent event gets the same verdict, and
 * v1-v4 clients get verdicts, changes and live changes without the new fields.
 */
import { describe, expect, it } from "vitest";
import * as ex from "../fixtures/examples.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, openSocket, pullAll, type TestClient, tokenFor, whole } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
let n = 0;
const fresh = () => `invoice-no-${Date.now().toString(36)}-${++n}`;
const invoice = (status: "draft" | "issued") => ({ ...ex.invoice, project_id: null, status, payments: [], issued_on: status === "draft" ? null : "2026-11-20" });

async function push(client: TestClient, events: unknown[], batch = newId()) {
  client.send({ type: "push", batch_id: batch, events });
  return (await client.next("verdicts", { skip: true })).verdicts;
}

/** A client of protocol `version` (3 or 4), reading frames raw: today's decoder would refuse their shape. */
async function olderClient(branch: string, device: string, version: 3 | 4) {
  const client = await openSocket(branch, await tokenFor(branch, device, "manager"));
  if (client instanceof Response) throw new Error(`upgrade refused: ${client.status}`);
  const frames: Record<string, any>[] = [];
  client.ws.addEventListener("message", (e) => frames.push(JSON.parse(e.data as string)));
  client.send({ type: "hello", protocol_version: version, device_id: device, cursor: 0, app: "old/4", install_id: `0193a000-0000-7000-8000-${device.slice(-12)}`, clock_ms: Date.now() });
  const next = async (type: string) => {
    for (let waited = 0; waited < 10_000; waited += 10) {
      const i = frames.findIndex((f) => f.type === type);
      if (i >= 0) return frames.splice(i, 1)[0]!;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no ${type}`);
  };
  await next("welcome");
  return { client, next };
}

describe("official invoice numbers", () => {
  it("are taken when an invoice is first issued, gap-free in commit order; drafts have none; edits and a void keep it; a re-send gets the same verdict", async () => {
    const branch = fresh();
    const f = makeEventFactory(14);
    const manager = await connect(branch, A, "manager");
    const draft = f.event(A, "invoice", f.nextId(), "create", invoice("draft"));
    const issued = f.event(A, "invoice", f.nextId(), "create", invoice("issued"));
    const sale = f.sale(A);
    const batch = newId();
    const first = await push(manager, [draft, issued, sale], batch);
    expect(first.map((v) => (v.status === "confirmed" ? v.official_invoice_no : v.code))).toEqual([null, 1, null]);

    // The draft is issued later: the next number. Then edits and a void keep each invoice's number.
    const issueDraft = f.event(A, "invoice", draft.entity_id, "update", { status: "issued", issued_on: "2026-11-21" }, { base: 1 });
    const pay = f.event(A, "invoice", issued.entity_id, "update", { notes: "paid half" }, { base: 1 });
    const voidIssued = f.event(A, "invoice", issued.entity_id, "void", { reason: "wrong client" }, { base: 2 });
    const second = await push(manager, [issueDraft, pay, voidIssued]);
    expect(second.map((v) => (v.status === "confirmed" ? v.official_invoice_no : v.code))).toEqual([2, null, null]);

    // Exactly-once (I3): the same batch again gets the same verdicts, numbers included, and takes no number.
    expect(await push(manager, [draft, issued, sale], batch)).toEqual(first);
    const third = f.event(A, "invoice", f.nextId(), "create", invoice("issued"));
    expect((await push(manager, [third]))[0]).toMatchObject({ status: "confirmed", official_invoice_no: 3 });

    // Every device sees the numbers on the entities it pulls.
    const other = await connect(branch, B, "staff");
    const latest = new Map((await pullAll(other)).changes.map((c) => [c.entity_id, c.entity]));
    expect(latest.get(draft.entity_id)).toMatchObject({ version: 2, official_invoice_no: 2, data: { status: "issued" } });
    expect(latest.get(issued.entity_id)).toMatchObject({ version: 3, official_invoice_no: 1, data: { status: "void" } });
    expect(latest.get(third.entity_id)).toMatchObject({ official_invoice_no: 3 });
    manager.close();
    other.close();
  });

  it("a voided draft never takes a number, and the sequence has no gap for it", async () => {
    const branch = fresh();
    const f = makeEventFactory(15);
    const manager = await connect(branch, A, "manager");
    const draft = f.event(A, "invoice", f.nextId(), "create", invoice("draft"));
    const verdicts = await push(manager, [draft, f.event(A, "invoice", draft.entity_id, "void", { reason: "not needed" }, { base: 1 }), f.event(A, "invoice", f.nextId(), "create", invoice("issued"))]);
    expect(verdicts.map((v) => (v.status === "confirmed" ? v.official_invoice_no : v.code))).toEqual([null, null, 1]);
    manager.close();
  });

  it.each([3, 4] as const)("a v%i client gets verdicts, changes and live changes without official_invoice_no, while a v5 client gets them with it", async (version) => {
    const branch = fresh();
    const f = makeEventFactory(16);
    const old = await olderClient(branch, A, version);
    const current = await connect(branch, B, "manager");
    const issued = f.event(A, "invoice", f.nextId(), "create", invoice("issued"));
    old.client.send({ type: "push", batch_id: newId(), events: [issued] });
    const verdict = (await old.next("verdicts")).verdicts[0];
    expect(verdict).toMatchObject({ status: "confirmed", seq: 1, official_receipt_no: null });
    expect(verdict).not.toHaveProperty("official_invoice_no");
    const oldLive = await old.next("live");
    expect(whole(oldLive.changes[0]!).entity).not.toHaveProperty("official_invoice_no");
    expect(whole((await current.next("live", { skip: true })).changes[0]!).entity).toMatchObject({ official_invoice_no: 1 });
    old.client.send({ type: "pull", request_id: crypto.randomUUID(), since: 0, limit: 10 });
    const page = await old.next("changes");
    expect(page.changes[0].entity).toMatchObject({ entity_type: "invoice", data: { status: "issued" } });
    expect(page.changes[0].entity).not.toHaveProperty("official_invoice_no");
    // A rejection that sends the server's entity back sends it in the old shape too.
    old.client.send({ type: "push", batch_id: newId(), events: [f.event(A, "invoice", issued.entity_id, "update", { notes: "stale" }, { base: 7 })] });
    const rejected = (await old.next("verdicts")).verdicts[0];
    expect(rejected).toMatchObject({ status: "rejected", code: "version_conflict", server_entity: { entity_id: issued.entity_id, version: 1 } });
    expect(rejected.server_entity).not.toHaveProperty("official_invoice_no");
    old.client.close();
    current.close();
  });
});
