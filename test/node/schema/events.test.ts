import { describe, expect, it } from "vitest";
import { parseEventBody, QueuedEvent, SyncEvent, type TypedEvent } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";

const event = (over: Partial<Record<keyof SyncEvent, unknown>>) => ({ ...ex.event, ...over }) as SyncEvent;

describe("sync events", () => {
  it("the example envelope is valid and a queued event adds its sync status", () => {
    expect(SyncEvent.parse(ex.event)).toEqual(ex.event);
    expect(QueuedEvent.parse({ ...ex.event, sync_status: "pending" }).sync_status).toBe("pending");
    expect(QueuedEvent.safeParse({ ...ex.event, sync_status: "lost" }).success).toBe(false);
  });

  it("a valid body is typed by entity type and operation", () => {
    const result = parseEventBody(event({ entity_type: "pos_order", operation: "create", payload: ex.sale, base_version: null }));
    expect(result.ok).toBe(true);
    const typed = result.ok ? (result.value as TypedEvent) : null;
    if (typed?.entity_type === "pos_order" && typed.operation === "create") {
      expect(typed.payload.total_minor).toBe(410_000);
    } else throw new Error("expected a typed pos_order create");
  });

  it.each([
    ["pos_order", "update", "append_only"],
    ["pos_order", "delete", "append_only"],
    ["invoice", "delete", "operation_not_allowed"],
    ["project", "void", "operation_not_allowed"],
  ] as const)("%s %s is refused as %s", (entity_type, operation, code) => {
    const result = parseEventBody(event({ entity_type, operation, payload: { reason: "x" } }));
    expect(result).toEqual({ ok: false, error: { code, detail: { field: "operation", expected: null, received: operation } } });
  });

  it("a create carries neither a base version nor a dependency", () => {
    const result = parseEventBody(event({ operation: "create", payload: ex.project, base_version: 2 }));
    expect(!result.ok && result.error.code).toBe("invalid_payload");
  });

  it("an update carries exactly one of base version and dependency", () => {
    const neither = parseEventBody(event({ base_version: null, depends_on: null }));
    const both = parseEventBody(event({ base_version: 1, depends_on: ex.ids.event2 }));
    expect(!neither.ok && neither.error.code).toBe("invalid_payload");
    expect(!both.ok && both.error.code).toBe("invalid_payload");
    expect(parseEventBody(event({ base_version: null, depends_on: ex.ids.event2 })).ok).toBe(true);
  });

  it("an invalid payload is refused with the field and the reason", () => {
    const result = parseEventBody(event({ payload: { status: "lost" } }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("invalid_payload");
      expect(result.error.detail?.field).toBe("status");
    }
  });
});
