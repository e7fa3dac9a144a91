/**
 * I2/I12: every event gets its verdict whatever it contains. A hostile or unforeseen payload is that
 * event's rejection, never the batch's crash: the valid events beside it are decided as usual.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { nodeSqlStore } from "../../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../../durable/core/branch.js";
import type { SqlValue } from "../../../durable/core/sql.js";
import type { BranchId, EntityType, Operation, SyncEvent } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const A = DEVICES.A;

describe("a poison event", () => {
  it("an invoice line with quantity 1e308 is that event's invalid_payload; the rest of the batch commits", () => {
    const t = makeCore();
    const f = makeEventFactory(41);
    try {
      const poison = f.event(A, "invoice", f.nextId(), "create", { ...ex.invoice, tax_rate_bp: 1_500, lines: [{ description: "Album", quantity: 1e308, unit_price_minor: 100 }] });
      const before = f.createProject(A);
      const after = f.sale(A);
      const outcome = t.core.push(actor(A), [before, poison, after] as never);
      expect(outcome.verdicts.map((v) => (v.status === "confirmed" ? "confirmed" : v.code))).toEqual(["confirmed", "invalid_payload", "confirmed"]);
      const rejected = outcome.verdicts[1]!;
      expect(rejected.status === "rejected" && rejected.detail?.field).toBe("lines.0.quantity");
      // Stored like any verdict (I3): the same event again gets the same answer.
      expect(t.core.push(actor(A), [poison] as never).verdicts).toEqual([rejected]);
    } finally {
      t.close();
    }
  });
});

describe("an exception while deciding one event (a bug, a storage fault)", () => {
  it("rolls back that event's partial writes only; it is rejected invalid_payload and its neighbours commit once", () => {
    // Real SQLite with one injected fault: the POS fact of one sale fails to insert, after its
    // entity and change rows were already written in the batch's transaction.
    const real = nodeSqlStore(":memory:");
    const faulty = { ...real, run: (sql: string, ...params: SqlValue[]) => (params.includes("FAULT-1") ? (() => { throw new Error("disk I/O error"); })() : real.run(sql, ...params)) };
    const core = new BranchCore(faulty, "test-branch" as BranchId, () => Date.UTC(2026, 10, 25, 4), { defaultTimeZone: "UTC" });
    const f = makeEventFactory(43);
    try {
      const poison = f.sale(A, undefined, "FAULT-1");
      const outcome = core.push(actor(A), [f.createProject(A), poison, f.sale(A, undefined, "OK-2")] as never);
      expect(outcome.verdicts.map((v) => (v.status === "confirmed" ? v.seq : v.code))).toEqual([1, "invalid_payload", 2]);
      // Why is in words, in the message; nothing the event brought explains it, so the detail is empty.
      expect(outcome.verdicts[1]).toMatchObject({
        message: expect.stringMatching(/^The change was not valid: the server could not process this change \(.*disk I\/O error.*\)$/),
        detail: { field: null, expected: null, received: null },
      });
      // Nothing of the poison event is left: no entity, no change, no POS fact; the head is 2.
      expect([...core.entities()].map((e) => e.entity_id)).not.toContain(poison.entity_id);
      expect(core.head()).toBe(2);
      expect(core.pull(0, 10, crypto.randomUUID()).changes.map((c) => c.seq)).toEqual([1, 2]);
      expect(core.ledger(null).reduce((n, r) => n + r.sales_count, 0)).toBe(1);
      // Stored (I3): sent again, the same verdicts.
      expect(core.push(actor(A), [poison] as never).verdicts).toEqual([outcome.verdicts[1]]);
    } finally {
      real.close();
    }
  });
});

// Field names the payload schemas know, so arbitrary values reach the deep rules (totals, tax, dates).
const FIELDS = [
  "title", "client", "starts_on", "ends_on", "status", "package", "notes", "media_selection", "location",
  "reference", "project_id", "client_name", "currency", "lines", "discount_minor", "tax_rate_bp", "payments",
  "issued_on", "due_on", "kind", "corrects_order_id", "reason", "total_minor", "payment", "rung_at", "cashier",
  "local_receipt_no", "quantity", "unit_price_minor", "description", "sku", "items", "amount_minor", "method",
];
const hostileNumber = fc.oneof(fc.double(), fc.constantFrom(1e308, -1e308, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, -0, 0.5), fc.integer());
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    hostileNumber,
    fc.string({ maxLength: 20 }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("v"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...FIELDS, "__proto__", "constructor"), tie("v"), { maxKeys: 4 }),
  ),
})).v;
// Well-typed lines with hostile numbers: type errors stop validation early, out-of-range numbers do not.
const hostileLines = fc.array(
  fc.record({ description: fc.constant("Album"), sku: fc.constant(null), quantity: hostileNumber, unit_price_minor: hostileNumber }),
  { minLength: 1, maxLength: 3 },
);
const overrides = fc.record(
  { lines: hostileLines, tax_rate_bp: hostileNumber, discount_minor: hostileNumber, total_minor: hostileNumber, other: fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 2 }) },
  { requiredKeys: [] },
);
// Payloads near the real ones: a real example with some fields replaced by hostile values.
const nearReal = (base: Record<string, unknown>) => overrides.map(({ other, ...over }) => ({ ...base, ...other, ...over }));
const payload = fc.oneof(value, nearReal(ex.project as never), nearReal(ex.invoice as never), nearReal(ex.sale as never));

describe("every event gets exactly one verdict, whatever its payload (fast-check)", () => {
  it("never throws, answers each event once, in order", () => {
    // Mostly well-formed envelopes (so payloads reach the deep rules), sometimes anything at all.
    const kinds: Array<[EntityType, Operation]> = [
      ["project", "create"], ["project", "update"], ["project", "delete"], ["invoice", "create"], ["invoice", "update"],
      ["invoice", "void"], ["pos_order", "create"], ["pos_order", "void"], ["project", "void"], ["pos_order", "update"],
    ];
    const arbEvent = fc
      .record({ kind: fc.constantFrom(...kinds), payload, base: fc.option(fc.integer({ min: -2, max: 3 }), { freq: 3 }) })
      .map(({ kind: [type, op], payload, base }) => ({ type, op, payload, base: op === "create" ? null : (base ?? 1) }));
    let decided = 0;
    fc.assert(
      fc.property(fc.array(arbEvent, { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 1_000 }), (specs, seed) => {
        const t = makeCore();
        const f = makeEventFactory(seed);
        try {
          const events = specs.map((s) => ({ ...f.event(A, s.type, f.nextId(), s.op, s.payload, s.base === null ? {} : { base: s.base }) }) as SyncEvent);
          const outcome = t.core.push(actor(A), events as never);
          expect(outcome.verdicts.map((v) => v.event_id)).toEqual(events.map((e) => e.id));
          decided += outcome.verdicts.length;
          // Answered the same way again (stored, I3), and the branch still takes a valid event.
          expect(t.core.push(actor(A), events as never).verdicts).toEqual(outcome.verdicts);
          expect(t.core.push(actor(A), [f.createProject(A)] as never).verdicts[0]!.status).toBe("confirmed");
        } finally {
          t.close();
        }
      }),
      { numRuns: 300, seed: 20261202 },
    );
    expect(decided).toBeGreaterThan(300);
  });
});
