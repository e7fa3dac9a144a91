/**
 * The branch core's commit rules on a real SQLite database (better-sqlite3), without workerd.
 * The same core runs inside the Durable Object; test/workers/ drives it over real WebSockets.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ConfirmedVerdict, MAX_EVENT_BYTES, type RejectedVerdict, type Verdict } from "../../../protocol/index.js";
import { type SyncEvent } from "../../../domain/index.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const { A, B } = DEVICES;
let t: ReturnType<typeof makeCore>;
let f: ReturnType<typeof makeEventFactory>;

beforeEach(() => {
  t = makeCore();
  f = makeEventFactory(42);
});
afterEach(() => t.close());

const push = (device: string, events: SyncEvent[], role: Parameters<typeof actor>[1] = "owner") =>
  t.core.push(actor(device, role), events as never);
const one = (device: string, event: SyncEvent, role?: Parameters<typeof actor>[1]) => push(device, [event], role).verdicts[0]!;
const confirmed = (v: Verdict) => {
  expect(v.status, JSON.stringify(v)).toBe("confirmed");
  return v as ConfirmedVerdict;
};
const rejected = (v: Verdict) => {
  expect(v.status, JSON.stringify(v)).toBe("rejected");
  return v as RejectedVerdict;
};

describe("the seed's scenario: an offline edit of a project deleted online", () => {
  it("rejects the edit as entity_deleted with 'Project was deleted remotely' and the tombstone", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    confirmed(one(B, f.deleteProject(B, create.entity_id, { base: 1 })));
    const verdict = rejected(one(A, f.updateProject(A, create.entity_id, { notes: "offline edit" }, { base: 1 })));
    expect(verdict.code).toBe("entity_deleted");
    expect(verdict.message).toBe("Project was deleted remotely");
    expect(verdict.server_entity).toMatchObject({ entity_id: create.entity_id, version: 2, deleted: true, data: null });
    const audit = t.core.readAudit(0, 100).entries;
    expect(audit.map((e) => e.kind)).toEqual(["delete", "rejection"]);
    expect(audit[1]).toMatchObject({ code: "entity_deleted", device_id: A });
  });
});

describe("versions (I7)", () => {
  it("an edit based on a version the server has moved past is a version conflict with expected and received", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    confirmed(one(B, f.updateProject(B, create.entity_id, { title: "B's title" }, { base: 1 })));
    const v = rejected(one(A, f.updateProject(A, create.entity_id, { title: "A's title" }, { base: 1 })));
    expect(v.code).toBe("version_conflict");
    expect(v.detail).toEqual({ field: "base_version", expected: 2, received: 1 });
    expect(v.message).toBe("Project was changed remotely (your change was based on version 1; the server has version 2)");
    expect(v.server_entity).toMatchObject({ version: 2, data: { title: "B's title" } });
  });

  it("a chain of local edits commits in order when nobody else interferes", () => {
    const create = f.createProject(A);
    const e1 = f.updateProject(A, create.entity_id, { title: "one" }, { dep: create.id });
    const e2 = f.updateProject(A, create.entity_id, { notes: "two" }, { dep: e1.id });
    const verdicts = push(A, [create, e1, e2]).verdicts.map(confirmed);
    expect(verdicts.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(t.core.pull(0, 10, crypto.randomUUID()).changes.at(-1)!.entity).toMatchObject({ data: { title: "one", notes: "two" } });
  });

  it("a later local edit after a rejected one is rejected depends_on_rejected, never applied on top of someone else's commit", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    confirmed(one(B, f.updateProject(B, create.entity_id, { title: "B" }, { base: 1 })));
    const e1 = f.updateProject(A, create.entity_id, { title: "A1" }, { base: 1 });
    const e2 = f.updateProject(A, create.entity_id, { notes: "A2" }, { dep: e1.id });
    const [v1, v2] = push(A, [e1, e2]).verdicts;
    expect(rejected(v1!).code).toBe("version_conflict");
    expect(rejected(v2!).code).toBe("depends_on_rejected");
    expect(t.core.head()).toBe(2);
  });

  it("a chain interrupted by another device's commit stops at the interruption", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    const e1 = f.updateProject(A, create.entity_id, { title: "A1" }, { base: 1 });
    confirmed(one(A, e1));
    confirmed(one(B, f.updateProject(B, create.entity_id, { title: "B" }, { base: 2 })));
    const e2 = f.updateProject(A, create.entity_id, { notes: "A2" }, { dep: e1.id });
    expect(rejected(one(A, e2)).detail).toEqual({ field: "base_version", expected: 3, received: 2 });
  });

  it("a dependency the server never received is refused depends_on_unknown", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    const dep = f.nextId();
    const v = rejected(one(A, f.updateProject(A, create.entity_id, { title: "x" }, { dep })));
    expect(v.code).toBe("depends_on_unknown");
    expect(v.detail).toEqual({ field: "depends_on", expected: null, received: dep });
  });

  it("a dependency on an event about another entity is invalid_payload with both entity ids, the words in the message", () => {
    const first = f.createProject(A);
    const other = f.createProject(A);
    push(A, [first, other]).verdicts.forEach(confirmed);
    const v = rejected(one(A, f.updateProject(A, other.entity_id, { title: "x" }, { dep: first.id })));
    expect(v.code).toBe("invalid_payload");
    expect(v.detail).toEqual({ field: "depends_on", expected: other.entity_id, received: first.entity_id });
    expect(v.message).toBe("The change was not valid: depends_on: it builds on a change to another entity");
  });

  it("a create of an id that exists is refused entity_exists; an edit of an unknown id entity_not_found", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    expect(rejected(one(B, { ...f.createProject(B), entity_id: create.entity_id })).code).toBe("entity_exists");
    expect(rejected(one(A, f.updateProject(A, f.nextId(), { title: "x" }, { base: 1 }))).code).toBe("entity_not_found");
  });

  it("a patch that would make the merged project invalid is refused invalid_payload and changes nothing", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    const v = rejected(one(A, f.updateProject(A, create.entity_id, { starts_on: null }, { base: 1 })));
    expect(v.code).toBe("invalid_payload");
    // The value the patch brought at that path (null here); the schema's words are in the message.
    expect(v.detail).toEqual({ field: "starts_on", expected: null, received: null });
    expect(v.message).toMatch(/^The change was not valid: starts_on: \S/);
    expect(t.core.head()).toBe(1);
  });
});

describe("exactly-once effect (I3)", () => {
  it("the same batch sent three times commits once and returns identical verdicts", () => {
    const create = f.createProject(A);
    const batch = [create, f.sale(A), f.updateProject(A, create.entity_id, { title: "t" }, { base: 7 })];
    const first = push(A, batch);
    const second = push(A, batch);
    const third = push(A, batch);
    expect(JSON.stringify(second.verdicts)).toBe(JSON.stringify(first.verdicts));
    expect(JSON.stringify(third.verdicts)).toBe(JSON.stringify(first.verdicts));
    expect(first.changes).toHaveLength(2);
    expect(second.changes).toHaveLength(0);
    expect(t.core.head()).toBe(2);
  });

  it("an event id is never replayed for another device", () => {
    const create = f.createProject(A);
    confirmed(one(A, create));
    const v = rejected(one(B, { ...create, device_id: B } as SyncEvent));
    expect(v.code).toBe("device_mismatch");
    expect(v.detail).toEqual({ field: "id", expected: null, received: create.id });
    expect(t.core.head()).toBe(1);
  });

  it("an event signed for another device than the sender is refused", () => {
    expect(rejected(one(B, f.createProject(A))).code).toBe("device_mismatch");
  });
});

describe("permissions per role (I11)", () => {
  it.each([
    ["cashier", () => f.createProject(A), "permission_denied"],
    ["viewer", () => f.sale(A), "permission_denied"],
    ["staff", () => f.sale(A), null],
    ["cashier", () => f.sale(A), null],
  ] as const)("%s: %s", (role, make, code) => {
    const v = one(A, make(), role);
    if (code === null) confirmed(v);
    else {
      const r = rejected(v);
      expect(r.code).toBe(code);
      expect(r.message).toMatch(new RegExp(`Your role \\(${role}\\) may not create`));
      expect(t.core.readAudit(0, 10).entries[0]).toMatchObject({ kind: "permission_denied", role });
    }
  });

  it("a cashier may not void a sale; a manager may", () => {
    const sale = f.sale(A);
    confirmed(one(A, sale, "cashier"));
    expect(rejected(one(A, f.voidOrder(A, sale.entity_id, { base: 1 }), "cashier")).code).toBe("permission_denied");
    confirmed(one(B, f.voidOrder(B, sale.entity_id, { base: 1 }), "manager"));
  });
});

describe("POS is append-only (I6)", () => {
  it("update and delete of a POS order are refused append_only", () => {
    const sale = f.sale(A);
    confirmed(one(A, sale));
    const upd = rejected(one(A, f.event(A, "pos_order", sale.entity_id, "update", { total_minor: 1 }, { base: 1 })));
    const del = rejected(one(A, f.event(A, "pos_order", sale.entity_id, "delete", { reason: "x" }, { base: 1 })));
    expect([upd.code, del.code]).toEqual(["append_only", "append_only"]);
    expect(upd.message).toBe("POS orders cannot be changed or deleted; record a correction or a void instead");
  });

  it("a second void is refused already_voided", () => {
    const sale = f.sale(A);
    confirmed(one(A, sale));
    confirmed(one(A, f.voidOrder(A, sale.entity_id, { base: 1 })));
    expect(rejected(one(B, f.voidOrder(B, sale.entity_id, { base: 1 }))).code).toBe("already_voided");
    expect(rejected(one(B, f.voidOrder(B, sale.entity_id, { base: 2 }))).code).toBe("already_voided");
  });

  it("a correction of an unknown order is refused reference_not_found; of a voided one reference_invalid", () => {
    expect(rejected(one(A, f.correction(A, f.nextId()))).code).toBe("reference_not_found");
    const sale = f.sale(A);
    confirmed(one(A, sale));
    confirmed(one(A, f.voidOrder(A, sale.entity_id, { base: 1 })));
    const v = rejected(one(A, f.correction(A, sale.entity_id)));
    expect(v.code).toBe("reference_invalid");
    // received is the id the correction names; why it cannot be used is in the message.
    expect(v.detail).toEqual({ field: "corrects_order_id", expected: null, received: sale.entity_id });
    expect(v.message).toBe("The corrects_order_id this POS order refers to cannot be used: that order was voided");
  });

  it("official receipt numbers are assigned in commit order without gaps", () => {
    const verdicts = push(A, [f.sale(A), f.sale(A), f.createProject(A), f.sale(A)]).verdicts.map(confirmed);
    expect(verdicts.map((v) => v.official_receipt_no)).toEqual([1, 2, null, 3]);
  });

  it("the ledger is sales + corrections − voids, exact in minor units, per day and device", () => {
    const s1 = f.sale(A, undefined, "A-1", 410_000);
    const s2 = f.sale(A, undefined, "A-2", 99_999);
    const s3 = f.sale(B, undefined, "B-1", 1_000_000);
    push(A, [s1, s2]);
    push(B, [s3]);
    push(A, [f.correction(A, s1.entity_id, undefined, -250_000)]);
    push(B, [f.voidOrder(B, s2.entity_id, { base: 1 })], "manager");
    expect(t.core.ledger("2026-11-25")).toEqual([
      { day: "2026-11-25", device_id: A, currency: "LKR", sales_count: 2, sales_minor: 509_999, corrections_count: 1, corrections_minor: -250_000, voids_count: 1, voids_minor: 99_999, net_minor: 160_000 },
      { day: "2026-11-25", device_id: B, currency: "LKR", sales_count: 1, sales_minor: 1_000_000, corrections_count: 0, corrections_minor: 0, voids_count: 0, voids_minor: 0, net_minor: 1_000_000 },
    ]);
    expect(t.core.ledger("2026-11-24")).toEqual([]);
  });

  it("SQLite itself refuses to update or delete POS rows, versions, changes and audit entries", () => {
    const sale = f.sale(A);
    confirmed(one(A, sale));
    confirmed(one(A, f.voidOrder(A, sale.entity_id, { base: 1 })));
    for (const statement of [
      "UPDATE pos_orders SET total_minor = 0",
      "DELETE FROM pos_orders",
      "UPDATE pos_voids SET reason = 'x'",
      "DELETE FROM pos_voids",
      "DELETE FROM audit",
      "UPDATE entity_versions SET body = '{}'",
      "DELETE FROM changes",
    ]) {
      expect(() => t.sql.run(statement), statement).toThrow(/append_only/);
    }
  });
});

describe("a rejected event never blocks the events behind it (I2)", () => {
  it("a batch with garbage, a denied and a valid event gets three verdicts and commits the valid one", () => {
    const good = f.createProject(A);
    const garbage = { id: f.nextId(), payload: "not an event" } as unknown as SyncEvent;
    const verdicts = push(A, [garbage, f.event(A, "invoice", f.nextId(), "delete", { reason: "x" }, { base: 1 }), good]).verdicts;
    expect(verdicts.map((v) => (v.status === "rejected" ? v.code : v.status))).toEqual([
      "invalid_payload",
      "operation_not_allowed",
      "confirmed",
    ]);
  });
});

describe("large entities", () => {
  it("a project with 20,000 selected media items is stored in parts and read back identical", () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({
      sha256: i.toString(16).padStart(64, "0"),
      file_name: `IMG_${String(i).padStart(5, "0")}_ünïcödé_😀.CR3`,
      size_bytes: 30_000_000 + i,
      note: i % 7 === 0 ? "retouch" : null,
    }));
    const create = f.createProject(A);
    confirmed(one(A, create));
    confirmed(one(A, f.updateProject(A, create.entity_id, { media_selection: { items } }, { base: 1 })));
    const parts = t.sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM entity_versions WHERE entity_id = ? AND version = 2", create.entity_id)!.n;
    expect(parts).toBeGreaterThan(1);
    const page = t.core.pull(1, 10, crypto.randomUUID());
    expect(page.changes[0]!.entity).toMatchObject({ version: 2, data: { media_selection: { items } } });
  });
});

describe("entity size", () => {
  it("refuses a patch that would grow an entity past the event size limit, and says by how much", () => {
    const note = "n".repeat(480);
    const item = (i: number) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.CR3`, size_bytes: i, note });
    const base = f.createProject(A);
    const items = Array.from({ length: 25_000 }, (_, i) => item(i));
    const create = { ...base, payload: { ...(base.payload as object), media_selection: { items } } } as SyncEvent;
    // Just under the limit: the create fits, the merged entity after the patch does not.
    let size = JSON.stringify(create).length;
    while (size > MAX_EVENT_BYTES - 15_000) size -= JSON.stringify(items.pop()).length + 1;
    confirmed(one(A, create));
    const grow = f.updateProject(A, create.entity_id, { notes: "x".repeat(20_000), location: "y".repeat(500), title: "z".repeat(200) }, { base: 1 });
    const merged = JSON.stringify({ ...(create.payload as object), ...(grow.payload as object) });
    expect(merged.length).toBeGreaterThan(MAX_EVENT_BYTES);
    expect(JSON.stringify(grow).length).toBeLessThan(30_000); // the merged entity is the big one, not the patch
    const v = rejected(one(A, grow));
    expect(v.code).toBe("payload_too_large");
    expect(v.detail).toMatchObject({ field: "entity", expected: MAX_EVENT_BYTES });
    expect(v.detail!.received as number).toBeGreaterThan(MAX_EVENT_BYTES);
    expect(t.core.head()).toBe(1);
  });
});
