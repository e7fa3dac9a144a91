/**
 * The decision's wording for events that could not be read: their codes take no subject (the
 * message names no entity type, operation or role), so durable/core/decide.ts words them from the
 * facts alone, whatever the unread event claims to be about.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import { reject, type RejectFacts, SUBJECTLESS_REJECT_CODES } from "../../../domain/index.js";
import { rejectedVerdict, type UnreadRejectCode } from "../../../durable/core/decide.js";

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
