/**
 * Leases in the branch core (durable/core/leases.ts) on a real SQLite file with a moved clock: who
 * may take one, the bounds (per device, per branch), renewal, what ends one, and which events each
 * group guards (domain/leases.ts touchedLeases). The wire and the Durable Object: test/workers/leases.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { LEASE_GROUPS, LeaseGroup, MAX_ACTIVE_LEASES, MAX_LEASES_PER_DEVICE, type Role, touchedLeases, type TypedEvent } from "../../../domain/index.js";
import type { LeaseRequest } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const { A, B } = DEVICES;
let open: ReturnType<typeof makeCore> | null = null;
afterEach(() => open?.close());

function branch() {
  open = makeCore();
  return open;
}

const request = (action: LeaseRequest["action"], entityId: string, group: LeaseGroup, extra: Partial<LeaseRequest> = {}): LeaseRequest =>
  ({ type: "lease", request_id: "0193a000-0000-4000-8000-000000000001", action, entity_id: entityId, group, ...extra }) as LeaseRequest;

/** Commits `count` invoices by A and returns their ids. */
function invoices(b: ReturnType<typeof makeCore>, count: number, seed = 1): string[] {
  const f = makeEventFactory(seed);
  const events = Array.from({ length: count }, () => f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, project_id: null }));
  for (let i = 0; i < events.length; i += 200) b.core.push(actor(A), events.slice(i, i + 200));
  return events.map((e) => e.entity_id);
}

describe("leases in the branch core", () => {
  it("who may take one: a role that may make a change the group guards", () => {
    const b = branch();
    const f = makeEventFactory(2);
    const [invoice] = invoices(b, 1);
    const project = f.createProject(A);
    const sale = f.sale(A);
    b.core.push(actor(A), [project, sale]);
    const may = (role: Role, id: string, group: LeaseGroup) => {
      const answer = b.core.lease(actor(B, role), request("acquire", id, group));
      if (answer.result.outcome === "granted") b.core.lease(actor(B, role), request("release", id, group));
      return answer.result.outcome === "granted" ? "granted" : answer.result.refusal;
    };
    // Invoices' payments: whoever may update an invoice (a cashier may create one, not update it).
    expect((["owner", "manager", "staff", "cashier", "viewer"] as const).map((r) => may(r, invoice!, "payment"))).toEqual(["granted", "granted", "granted", "forbidden", "forbidden"]);
    expect((["owner", "manager", "staff", "cashier", "viewer"] as const).map((r) => may(r, project.entity_id, "package"))).toEqual(["granted", "granted", "granted", "forbidden", "forbidden"]);
    // A sale's corrections: a cashier rings corrections, so may lease them; a viewer may not.
    expect((["owner", "manager", "cashier", "viewer"] as const).map((r) => may(r, sale.entity_id, "correction"))).toEqual(["granted", "granted", "granted", "forbidden"]);
  });

  it("at most MAX_LEASES_PER_DEVICE per device: renewing one is not another, and an ended one frees a place", () => {
    const b = branch();
    const ids = invoices(b, MAX_LEASES_PER_DEVICE + 1);
    for (const id of ids.slice(0, MAX_LEASES_PER_DEVICE)) expect(b.core.lease(actor(A), request("acquire", id, "payment")).result.outcome).toBe("granted");
    const over = b.core.lease(actor(A), request("acquire", ids.at(-1)!, "payment"));
    expect(over.result).toMatchObject({ outcome: "refused", refusal: "too_many" });
    expect(over.changed).toBe(false);
    expect(b.core.lease(actor(A), request("acquire", ids[0]!, "payment")).result.outcome).toBe("granted"); // a renewal
    expect(b.core.lease(actor(A), request("release", ids[1]!, "payment")).result.outcome).toBe("released");
    expect(b.core.lease(actor(A), request("acquire", ids.at(-1)!, "payment")).result.outcome).toBe("granted");
    // Every one ends with its time: then the device may take as many again.
    b.advance(60_000);
    expect(b.core.leases()).toEqual([]);
    expect(b.core.lease(actor(A), request("acquire", ids[2]!, "payment")).result.outcome).toBe("granted");
  });

  it("at most MAX_ACTIVE_LEASES on a branch", () => {
    const b = branch();
    const ids = invoices(b, MAX_ACTIVE_LEASES + 1, 3);
    const devices = Array.from({ length: Math.ceil(MAX_ACTIVE_LEASES / MAX_LEASES_PER_DEVICE) + 1 }, (_, i) => `01936f3c-0000-7000-8000-${String(i).padStart(12, "0")}`);
    ids.slice(0, MAX_ACTIVE_LEASES).forEach((id, i) => {
      expect(b.core.lease(actor(devices[Math.floor(i / MAX_LEASES_PER_DEVICE)]!), request("acquire", id, "payment")).result.outcome).toBe("granted");
    });
    expect(b.core.leases()).toHaveLength(MAX_ACTIVE_LEASES);
    expect(b.core.lease(actor(devices.at(-1)!), request("acquire", ids.at(-1)!, "payment")).result).toMatchObject({ refusal: "too_many" });
  });

  it("a voided invoice or sale, a deleted project: `ended`; the TTL asked for is the lease's; the alarm ends what is due, once", () => {
    const b = branch();
    const f = makeEventFactory(4);
    const [invoice] = invoices(b, 1);
    const project = f.createProject(A);
    const sale = f.sale(A);
    b.core.push(actor(A), [project, sale]);
    b.core.push(actor(A), [f.event(A, "invoice", invoice!, "void", { reason: "duplicate" }, { base: 1 }), f.deleteProject(A, project.entity_id, { base: 1 }), f.voidOrder(A, sale.entity_id, { base: 1 })]);
    for (const [id, group] of [[invoice!, "payment"], [project.entity_id, "package"], [sale.entity_id, "correction"]] as const) {
      expect(b.core.lease(actor(A), request("acquire", id, group)).result, group).toMatchObject({ outcome: "refused", refusal: "ended" });
    }
    const [live] = invoices(b, 1, 5);
    const granted = b.core.lease(actor(A), request("acquire", live!, "payment", { ttl_ms: 5_000 }));
    expect(granted.result.lease!.expires_at_ms - granted.nowMs).toBe(5_000);
    expect(b.core.nextLeaseExpiry()).toBe(granted.result.lease!.expires_at_ms);
    const epoch = b.core.leaseEpoch;
    b.advance(4_999);
    expect(b.core.expireLeases()).toBe(0);
    b.advance(1);
    expect(b.core.expireLeases()).toBe(1);
    expect(b.core.leaseEpoch).toBe(epoch + 1);
    expect(b.core.expireLeases()).toBe(0);
    expect(b.core.nextLeaseExpiry()).toBeNull();
  });

  it("which events touch which group (domain/leases.ts): the guarded fields, the entity's delete or void, a correction of the order", () => {
    const f = makeEventFactory(6);
    const typed = (e: ReturnType<typeof f.event>) => e as unknown as TypedEvent;
    const inv = f.nextId();
    const proj = f.nextId();
    const order = f.nextId();
    expect(touchedLeases(typed(f.event(A, "invoice", inv, "update", { payments: [] }, { base: 1 })))).toEqual([{ entity_id: inv, group: "payment" }]);
    expect(touchedLeases(typed(f.event(A, "invoice", inv, "update", { status: "draft", notes: "x" }, { base: 1 })))).toEqual([{ entity_id: inv, group: "payment" }]);
    expect(touchedLeases(typed(f.event(A, "invoice", inv, "update", { notes: "x", reference: "R" }, { base: 1 })))).toEqual([]);
    expect(touchedLeases(typed(f.event(A, "invoice", inv, "void", { reason: "x" }, { base: 1 })))).toEqual([{ entity_id: inv, group: "payment" }]);
    expect(touchedLeases(typed(f.updateProject(A, proj, { package: null }, { base: 1 })))).toEqual([{ entity_id: proj, group: "package" }]);
    expect(touchedLeases(typed(f.updateProject(A, proj, { title: "x" }, { base: 1 })))).toEqual([]);
    expect(touchedLeases(typed(f.deleteProject(A, proj, { base: 1 })))).toEqual([{ entity_id: proj, group: "package" }]);
    expect(touchedLeases(typed(f.voidOrder(A, order, { base: 1 })))).toEqual([{ entity_id: order, group: "correction" }]);
    expect(touchedLeases(typed(f.correction(A, order)))).toEqual([{ entity_id: order, group: "correction" }]);
    expect(touchedLeases(typed(f.sale(A)))).toEqual([]);
    expect(touchedLeases(typed(f.createProject(A)))).toEqual([]);
    // Every group names fields of its own entity type, or operations (domain/lease-groups.ts).
    for (const group of LeaseGroup.options) expect(LEASE_GROUPS[group].fields.length + LEASE_GROUPS[group].operations.length).toBeGreaterThan(0);
  });

  it("a correction of a leased sale is refused `entity_locked` for another till, and goes through for the holder", () => {
    const b = branch();
    const f = makeEventFactory(7);
    const sale = f.sale(A);
    b.core.push(actor(A), [sale]);
    expect(b.core.lease(actor(A, "manager"), request("acquire", sale.entity_id, "correction")).result.outcome).toBe("granted");
    const [refused] = b.core.push(actor(B, "cashier"), [f.correction(B, sale.entity_id)]).verdicts;
    expect(refused).toMatchObject({ status: "rejected", code: "entity_locked", detail: { field: "correction", expected: A, received: B } });
    const [accepted] = b.core.push(actor(A, "manager"), [f.correction(A, sale.entity_id)]).verdicts;
    expect(accepted).toMatchObject({ status: "confirmed" });
  });
});
