/**
 * Parsing hostile input never throws anything but a validation error: decoders return values,
 * `schema.parse` throws only ZodError, and nothing reaches Object.prototype.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ClientMessage, decodeClientFrame, decodeClientMessage, decodeServerMessage, ServerMessage } from "../../../protocol/index.js";
import { Entity, parseEventBody, PosOrderCreate, ProjectData, SyncEvent } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";
import { makeEventFactory } from "../../support/events.js";

const schemas: Array<[string, z.ZodType]> = [
  ["ClientMessage", ClientMessage],
  ["ServerMessage", ServerMessage],
  ["SyncEvent", SyncEvent],
  ["Entity", Entity],
  ["ProjectData", ProjectData],
  ["PosOrderCreate", PosOrderCreate],
];
const decoders = [decodeClientMessage, decodeClientFrame, decodeServerMessage];

/** Throws only ZodError, or returns. */
function parseOnlyThrowsZod(schema: z.ZodType, value: unknown) {
  try {
    schema.parse(value);
  } catch (e) {
    expect(e).toBeInstanceOf(z.ZodError);
  }
}

describe("hostile input", () => {
  it("`__proto__` keys are refused and pollute nothing", () => {
    const texts = [
      '{"type":"ping","nonce":1,"__proto__":{"polluted":true}}',
      `{"type":"push","batch_id":"${ex.ids.batch}","events":[{"id":"${ex.ids.event1}","__proto__":{"polluted":true}}]}`,
      '{"__proto__":{"type":"ping","nonce":1}}',
      '{"constructor":{"prototype":{"polluted":true}},"type":"ping","nonce":1}',
    ];
    for (const text of texts) {
      for (const decode of [decodeClientMessage, decodeServerMessage]) expect(decode(text).ok, text).toBe(false);
    }
    // A push frame with one is malformed as a whole: copying the event would have dropped the key
    // silently and let the event through (issue 12).
    expect(decodeClientFrame(texts[1]!).ok).toBe(false);
    const payload = JSON.parse('{"notes":"x","__proto__":{"polluted":true}}');
    const body = parseEventBody({ ...ex.event, payload });
    expect(body.ok).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("huge numbers, non-integers and negatives are refused where they do not belong", () => {
    const bad = [
      { type: "ping", nonce: 1e308 },
      { type: "ping", nonce: 2 ** 60 },
      { type: "ping", nonce: -1 },
      { type: "ping", nonce: 1.5 },
      { ...ex.clientMessages.hello, cursor: -5 },
      { ...ex.clientMessages.pull, since: Number.MAX_SAFE_INTEGER + 2 },
    ];
    for (const m of bad) expect(ClientMessage.safeParse(m).success, JSON.stringify(m)).toBe(false);
    expect(decodeClientMessage('{"type":"ping","nonce":1e999}').ok).toBe(false); // JSON.parse → Infinity
    const lines = [{ sku: null, description: "x", quantity: 1e20, unit_price_minor: 1 }];
    expect(PosOrderCreate.safeParse({ ...ex.sale, lines, total_minor: 1e20 }).success).toBe(false);
    const pricey = [{ sku: null, description: "x", quantity: 1, unit_price_minor: 1e300 }];
    expect(PosOrderCreate.safeParse({ ...ex.sale, lines: pricey, total_minor: 1e300 }).success).toBe(false);
    expect(Entity.safeParse({ ...ex.entities.project, version: 0 }).success).toBe(false);
  });

  it("10 MB strings are refused by length, quickly, in every text field", () => {
    const big = "a".repeat(10 * 1024 * 1024);
    const started = performance.now();
    for (const field of ["title", "notes", "location"]) {
      expect(ProjectData.safeParse({ ...ex.project, [field]: big }).success, field).toBe(false);
    }
    expect(ProjectData.safeParse({ ...ex.project, client: { ...ex.project.client, email: big } }).success).toBe(false);
    expect(decodeClientMessage(JSON.stringify({ type: "ping", nonce: 1, x: big })).ok).toBe(false);
    // Not a timing assertion: a sanity bound far above normal so a catastrophic regex would show.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it("wrong discriminants and missing fields are validation errors", () => {
    parseOnlyThrowsZod(ClientMessage, { type: "welcome" });
    parseOnlyThrowsZod(ClientMessage, { type: "hello" });
    parseOnlyThrowsZod(Entity, { ...ex.entities.project, entity_type: "album" });
    parseOnlyThrowsZod(ServerMessage, { type: "verdicts", batch_id: ex.ids.batch, verdicts: [{ status: "maybe" }] });
    expect(() => ClientMessage.parse({ type: 42 })).toThrow(z.ZodError);
  });

  it("deep nesting, invalid UTF-8, non-JSON and non-objects come back as values", () => {
    const inputs: Array<string | Uint8Array> = [
      "[".repeat(2_000_000),
      '{"a":'.repeat(500_000),
      new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]),
      "",
      "null",
      "42",
      '"hello"',
      "[]",
      "{",
      "\u0000",
    ];
    for (const input of inputs) {
      for (const decode of decoders) {
        const result = decode(input);
        expect(result.ok).toBe(false);
      }
    }
  });

  it("arbitrary values never make parse throw anything but ZodError", () => {
    fc.assert(
      fc.property(fc.anything({ withObjectString: true, withNullPrototype: true, withBigInt: true, withDate: true }), (value) => {
        for (const [, schema] of schemas) parseOnlyThrowsZod(schema, value);
      }),
      { numRuns: 300 },
    );
  });

  it("arbitrary JSON text never makes a decoder throw", () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify({ type: "push", events: v }))), (text) => {
        for (const decode of decoders) expect(() => decode(text)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it("mutating a valid message field by field never throws", () => {
    const message = ex.clientMessages.push as unknown as Record<string, unknown>;
    const garbage = fc.oneof(fc.anything(), fc.constant(undefined), fc.constant("x".repeat(100_000)));
    fc.assert(
      fc.property(fc.constantFrom(...Object.keys(message)), garbage, (key, value) => {
        parseOnlyThrowsZod(ClientMessage, { ...message, [key]: value });
      }),
      { numRuns: 300 },
    );
  });
});

describe("a __proto__ key (I12: strict objects stay strict)", () => {
  const f = makeEventFactory(3);
  const event = f.createProject("01936f3c-0000-7000-8000-0000000000a1");
  const push = JSON.stringify({ type: "push", batch_id: f.nextId(), events: [event] });
  it.each([
    ["in an event envelope", push.replace('"id":', '"__proto__":{"x":1},"id":')],
    ["spelt with escapes", push.replace('"id":', '"\\u005f_proto__":1,"id":')],
    ["deep in a payload", push.replace('"title":', '"__proto__":null,"title":')],
  ])("%s makes the frame malformed instead of silently vanishing", (_, text) => {
    const decoded = decodeClientFrame(text);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.error).toEqual({ code: "malformed_message", message: 'message has a "__proto__" key, which no message may have' });
  });

  it("a value or a longer key that merely contains the word is fine", () => {
    const text = push.replace('"title":"Shoot"', '"title":"__proto__ shoot"');
    expect(decodeClientFrame(text).ok).toBe(true);
  });
});
