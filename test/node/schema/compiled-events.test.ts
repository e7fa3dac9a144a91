/**
 * The compiled event schemas (domain/events.ts compileEventSchemas, zod's `z.compile`) say exactly what
 * the runtime parser says: the same value for an input they accept, the same refusal in the same
 * words for one they do not. Checked for the envelope, every payload of every (entity type,
 * operation) and the entities an update merges into, on examples and on seeded random mutations of
 * them; and the whole path (envelope, body, apply) answers the same before and after compiling.
 */
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { z } from "zod";
import { type DeviceId, EVENT_PAYLOADS, InvoiceCreate, ProjectData, SyncEvent, type UserId } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";
import { makeEventFactory } from "../../support/events.js";
import { mutate, mutation } from "../../support/mutations.js";

const A = ex.ids.deviceA;
const f = makeEventFactory(16);
const project = f.nextId();
const invoice = f.nextId();
const sale = f.nextId();

/** An event of every defined (entity type, operation). */
const events = [
  f.createProject(A, project, "Wedding"),
  f.updateProject(A, project, { notes: "sunset", title: "Wedding, day two" }, { base: 1 }),
  f.deleteProject(A, project, { base: 2 }),
  f.event(A, "invoice", invoice, "create", ex.invoice),
  f.event(A, "invoice", invoice, "update", { notes: "paid half" }, { base: 1 }),
  f.event(A, "invoice", invoice, "void", { reason: "duplicate" }, { base: 2 }),
  f.sale(A, sale),
  f.correction(A, sale),
  f.voidOrder(A, sale, { base: 1 }),
  ex.event,
];

/**
 * Each schema with the inputs it is checked on. All compile whole (strict: no part left to the runtime
 * parser) but an invoice's, whose cross-field check runs only when every field passed (a `when`
 * condition, which zod's compiler leaves to the runtime): compiled, it is the runtime parser.
 */
const RUNTIME_ONLY = new Set(["invoice create", "InvoiceCreate (merged)"]);
const schemas: Array<[name: string, runtime: z.ZodType, inputs: unknown[]]> = [
  ["SyncEvent", SyncEvent, events],
  ...Object.entries(EVENT_PAYLOADS).flatMap(([type, row]) =>
    Object.entries(row as Record<string, z.ZodType>).map(([operation, schema]): [string, z.ZodType, unknown[]] => [
      `${type} ${operation}`,
      schema,
      events.filter((e) => e.entity_type === type && e.operation === operation).map((e) => e.payload),
    ]),
  ),
  ["ProjectData (merged)", ProjectData, [ex.project, { ...ex.project, notes: "x" }]],
  ["InvoiceCreate (merged)", InvoiceCreate, [ex.invoice]],
];

/** A safeParse result as it can be compared: the value, or the refusal's issues (which carry its words). */
const answer = (result: z.ZodSafeParseResult<unknown>) => (result.success ? { ok: result.data } : { refused: result.error.issues });

describe("the compiled event schemas", () => {
  it.each(schemas)("%s: compiles (whole, but an invoice's) and accepts every example as the runtime does, value for value", (name, runtime, inputs) => {
    if (RUNTIME_ONLY.has(name)) expect(() => z.compile(runtime, { strict: true })).toThrow(/custom "when" condition/);
    const compiled = z.compile(runtime, { strict: !RUNTIME_ONLY.has(name) });
    expect(inputs.length).toBeGreaterThan(0);
    for (const input of inputs) {
      expect(runtime.safeParse(input).success).toBe(true);
      expect(answer(compiled.safeParse(input))).toEqual(answer(runtime.safeParse(input)));
    }
  });

  it("give every mutated input the runtime parser's answer: the same value, or the same refusal in the same words", () => {
    const compiled = schemas.map(([name, runtime]) => z.compile(runtime, { strict: !RUNTIME_ONLY.has(name) }));
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.nat({ max: schemas.length - 1 }), fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, pick, mutations) => {
        const [, runtime, inputs] = schemas[which]!;
        const input = mutate(inputs[pick % inputs.length], mutations);
        const expected = answer(runtime.safeParse(input));
        if ("ok" in expected) accepted++;
        else refused++;
        expect(answer(compiled[which]!.safeParse(input))).toEqual(expected);
      }),
      { numRuns: 3_000 },
    );
    // Both sides of the comparison were exercised.
    expect(refused).toBeGreaterThan(1_000);
    expect(accepted).toBeGreaterThan(100);
  });

  it("once compiled, the envelope, the body and the applied entity of every event (and of mutated ones) are what they were", async () => {
    // Two fresh copies of the domain module: test files share one module graph (vitest.config.ts), and
    // any file that made a SyncEngine has compiled the shared copy, which would make "before" compiled too.
    vi.resetModules();
    const runtime = await import("../../../domain/index.js");
    vi.resetModules();
    const compiled = await import("../../../domain/index.js");
    expect(compiled.SyncEvent).not.toBe(runtime.SyncEvent); // two copies, so `runtime` was never compiled
    expect(compiled.compileEventSchemas()).toBe(true);
    expect(compiled.compileEventSchemas()).toBe(true); // once: a second call changes nothing
    const commit = { version: 1, seq: 1, device_id: A as DeviceId, user_id: "cashier-nimal" as UserId, official_receipt_no: 7, official_invoice_no: 3 };
    const inputs = [...events, ...events.map((e, i) => mutate(e, [{ at: i * 7, op: "replace", key: "extra", value: "x" }]))];
    const path = (domain: typeof runtime) =>
      inputs.map((raw) => {
        const envelope = domain.decodeEnvelope(raw);
        if (!envelope.success) return { envelope: envelope.error.issues };
        const body = domain.parseEventBody(envelope.data);
        if (!body.ok) return { body: body.error };
        const base = body.value.operation === "create" ? null : Object.values(ex.entities).find((e) => e.entity_type === body.value.entity_type) ?? null;
        return { applied: domain.applyEvent(base, body.value, { ...commit, version: (base?.version ?? 0) + 1 }) };
      });
    const before = path(runtime);
    expect(before.filter((r) => "applied" in r && r.applied?.ok).length).toBeGreaterThan(5);
    expect(before.filter((r) => !("applied" in r)).length).toBeGreaterThan(5);
    expect(path(compiled)).toEqual(before);
  });
});
