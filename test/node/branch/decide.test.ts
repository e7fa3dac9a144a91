/**
 * The decision's wording for events that could not be read: durable/core/decide.ts passes schema's
 * rejectMessage a subject it never uses for these codes. This proves "never uses".
 */
import { describe, expect, it } from "vitest";
import { EntityType, Operation, rejectMessage, type RejectDetail } from "../../../domain/index.js";
import type { UnreadRejectCode } from "../../../durable/core/decide.js";

const UNREAD_CODES: readonly UnreadRejectCode[] = ["invalid_payload", "payload_too_large", "device_mismatch"];
const detail: RejectDetail = { field: "payload", expected: 10, received: 11 };

describe("rejections of events whose envelope could not be read", () => {
  it.each(UNREAD_CODES)("%s is worded the same whatever entity type, operation and role it would name", (code) => {
    const wordings = new Set(
      EntityType.options.flatMap((entity_type) =>
        Operation.options.flatMap((operation) => ["owner", "viewer"].map((role) => rejectMessage(code, { entity_type, operation, role, detail }))),
      ),
    );
    expect(wordings.size).toBe(1);
  });
});
