/**
 * The decision's wording for events that could not be read: their codes take no subject (the
 * message names no entity type, operation or role), so durable/core/decide.ts words them from the
 * facts alone, whatever the unread event claims to be about. And the bound that spares the events of
 * a frame their size check (JSON_REWRITE_GROWTH).
 */
import fc from "fast-check";
import { describe, expect, expectTypeOf, it } from "vitest";
import { reject, type RejectFacts, SUBJECTLESS_REJECT_CODES } from "../../../domain/index.js";
import { eventBytesAtMost, JSON_REWRITE_GROWTH, rejectedVerdict, type UnreadRejectCode } from "../../../durable/core/decide.js";
import { FRAME_LIMIT_BYTES, MAX_ASSEMBLED_MESSAGE_BYTES, MAX_EVENT_BYTES, utf8ByteLength } from "../../../protocol/index.js";

const EVENT = "0193a0a0-0000-7000-8000-000000000003";
const UNREAD: Array<RejectFacts<UnreadRejectCode>> = [
  reject("invalid_payload", { field: "entity_id", expected: null, received: "not-an-id" }, { reason: "Invalid UUID" }),
  reject("payload_too_large", { field: null, expected: 10, received: 11 }),
  reject("device_mismatch", { field: "id", expected: null, received: EVENT }),
];

describe("rejections of events whose envelope could not be read", () => {
  it("the unread codes are exactly three, all of them codes that take no subject", () => {
    expectTypeOf<UnreadRejectCode>().toEqualTypeOf<"invalid_payload" | "payload_too_large" | "device_mismatch">();
    for (const facts of UNREAD) expect(SUBJECTLESS_REJECT_CODES).toContain(facts.code);
  });

  it.each(UNREAD)("$code is worded the same whatever the event claims to be about", (facts) => {
    const claims = [{}, { entity_type: "project", operation: "create" }, { entity_type: "pos_order", operation: "void" }, { entity_type: 7, operation: null }];
    const verdicts = claims.map((claim) => rejectedVerdict({ about: "unread", event: { id: EVENT, ...claim } as never, facts }, null));
    expect(new Set(verdicts.map((v) => v.message)).size).toBe(1);
    expect(verdicts[0]).toMatchObject({ event_id: EVENT, status: "rejected", code: facts.code, detail: facts.detail, server_entity: null });
  });
});

/** JSON text written as short as it can be, numbers in exponent form where that is shorter (`1e20`). */
function tersest(value: unknown): string {
  if (typeof value === "number") {
    const exponent = value.toExponential().replace("e+", "e");
    return exponent.length < String(value).length ? exponent : String(value);
  }
  if (Array.isArray(value)) return `[${value.map(tersest).join(",")}]`;
  if (value !== null && typeof value === "object") return `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${tersest(v)}`).join(",")}}`;
  return JSON.stringify(value);
}

describe("how much an event can grow when its text is parsed and serialized again", () => {
  const growth = (text: string) => utf8ByteLength(JSON.stringify(JSON.parse(text))) / utf8ByteLength(text);

  it("a number written 1e20 is the worst case, and within the bound", () => {
    expect(growth("1e20")).toBe(21 / 4);
    expect(growth("[1e20,1e20,-1e20]")).toBeLessThan(JSON_REWRITE_GROWTH);
  });

  it("no JSON text grows past the bound", () => {
    fc.assert(fc.property(fc.jsonValue(), (value) => growth(tersest(value)) <= JSON_REWRITE_GROWTH && growth(JSON.stringify(value, null, 1)) <= JSON_REWRITE_GROWTH));
  });

  it("spares the events of a frame their size check, never those of a chunked upload", () => {
    expect(eventBytesAtMost(FRAME_LIMIT_BYTES)).toBeLessThanOrEqual(MAX_EVENT_BYTES);
    expect(eventBytesAtMost(MAX_ASSEMBLED_MESSAGE_BYTES)).toBeGreaterThan(MAX_EVENT_BYTES);
  });
});
