import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  canDo,
  canWrite,
  EntityType,
  fromEventRejection,
  invalidPayload,
  isOperationDefined,
  messageOf,
  Operation,
  reject,
  RejectCode,
  RejectDetail,
  type RejectFacts,
  rejectMessage,
  Role,
  SUBJECTLESS_REJECT_CODES,
} from "../../../domain/index.js";

const invoiceUpdate = { entity_type: "invoice", operation: "update" } as const;
const correction = { entity_type: "pos_order", operation: "create" } as const;
const ORDER = "0193a0a0-0000-7000-8000-000000000001";
const PROJECT = "0193a0a0-0000-7000-8000-000000000002";
const EVENT = "0193a0a0-0000-7000-8000-000000000003";

/**
 * One rejection of every code (two where a code's detail has variants), built with `reject`, and the
 * message each must read: the numbers and ids in the message come from the typed detail.
 */
const EXAMPLES: Array<[RejectFacts, string]> = [
  [reject("invalid_payload", { field: "lines.0.quantity", expected: null, received: 0 }, { reason: "Too small: expected number to be >0" }), "The change was not valid: lines.0.quantity: Too small: expected number to be >0"],
  [reject("invalid_payload", { field: "entity_type", expected: "invoice", received: "project" }, { reason: null }), "The change was not valid: entity_type: expected invoice, received project"],
  [reject("invalid_payload", { field: null, expected: null, received: null }, { reason: "the server could not process this change (Error: x)" }), "The change was not valid: the server could not process this change (Error: x)"],
  [reject("invalid_payload", { field: null, expected: null, received: null }, { reason: null }), "The change was not valid"],
  [reject("payload_too_large", { field: null, expected: 1_000, received: 1_234 }), "The change is too large (1234 bytes; the limit is 1000 bytes)"],
  [reject("payload_too_large", { field: "entity", expected: 1_000, received: 2_000 }), "The change is too large (2000 bytes; the limit is 1000 bytes)"],
  [reject("device_mismatch", { field: "device_id", expected: "dev-a", received: "dev-b" }), "The change was signed by a different device than the one that sent it"],
  [reject("device_mismatch", { field: "id", expected: null, received: EVENT }), "The change was signed by a different device than the one that sent it"],
  [reject("permission_denied", { field: "role", expected: null, received: "cashier" }, { entity_type: "invoice", operation: "void" }), "Your role (cashier) may not void an invoice"],
  [reject("operation_not_allowed", { field: "operation", expected: null, received: "void" }, { entity_type: "project", operation: "void" }), "Projects cannot be voided"],
  [reject("append_only", { field: "operation", expected: null, received: "update" }), "POS orders cannot be changed or deleted; record a correction or a void instead"],
  [reject("entity_exists", null, { entity_type: "project", operation: "create" }), "Project already exists on the server"],
  [reject("entity_not_found", null, invoiceUpdate), "Invoice does not exist on the server"],
  [reject("entity_deleted", null, { entity_type: "project", operation: "update" }), "Project was deleted remotely"],
  [reject("entity_voided", null, invoiceUpdate), "Invoice was voided remotely"],
  [reject("version_conflict", { field: "base_version", expected: 5, received: 3 }, invoiceUpdate), "Invoice was changed remotely (your change was based on version 3; the server has version 5)"],
  [reject("depends_on_rejected", { field: "depends_on", expected: "confirmed", received: "version_conflict" }), "This change built on an earlier change that was rejected"],
  [reject("depends_on_unknown", { field: "depends_on", expected: null, received: EVENT }), "This change built on an earlier change the server never received"],
  [reject("already_voided", null, { entity_type: "pos_order", operation: "void" }), "POS order was already voided"],
  [reject("reference_not_found", { field: "project_id", expected: null, received: PROJECT }, invoiceUpdate), "The project_id this invoice refers to does not exist"],
  [reject("reference_not_found", { field: "corrects_order_id", expected: null, received: ORDER }, correction), "The corrects_order_id this POS order refers to does not exist"],
  [reject("reference_invalid", { field: "project_id", expected: null, received: PROJECT }, invoiceUpdate), "The project_id this invoice refers to cannot be used: that project was deleted"],
  [reject("reference_invalid", { field: "corrects_order_id", expected: null, received: ORDER }, correction), "The corrects_order_id this POS order refers to cannot be used: that order was voided"],
  [reject("reference_invalid", { field: "currency", expected: "PHP", received: "USD" }, correction), "The corrects_order_id this POS order refers to cannot be used: that order is in PHP, this correction in USD"],
  [
    reject("entity_locked", { field: "payment", expected: "dev-b", received: "dev-a" }, invoiceUpdate),
    "Invoice payments and status are being edited on device dev-b, which holds the lease on them: your change was not applied",
  ],
];

describe("reject codes", () => {
  it("the seed's scenario reads exactly 'Project was deleted remotely'", () => {
    expect(rejectMessage("entity_deleted", { entity_type: "project", operation: "update" })).toBe("Project was deleted remotely");
  });

  it("version conflicts say what was expected and what was received", () => {
    const detail = { field: "base_version", expected: 5, received: 3 } as const;
    expect(rejectMessage("version_conflict", { entity_type: "invoice", operation: "update", detail })).toBe(
      "Invoice was changed remotely (your change was based on version 3; the server has version 5)",
    );
  });

  it("every code's message is built from its typed detail and subject", () => {
    expect(new Set(EXAMPLES.map(([facts]) => facts.code))).toEqual(new Set(RejectCode.options));
    for (const [facts, message] of EXAMPLES) {
      expect(messageOf(facts), facts.code).toBe(message);
      expect(message).not.toMatch(/undefined|\?|null/);
    }
  });

  it("rejectMessage(code, context) and messageOf(reject(…)) say the same", () => {
    const detail = { field: "role", expected: null, received: "viewer" } as const;
    const subject = { entity_type: "pos_order", operation: "void" } as const;
    expect(rejectMessage("permission_denied", { ...subject, detail })).toBe(messageOf(reject("permission_denied", detail, subject)));
    expect(rejectMessage("depends_on_unknown", { detail: { field: "depends_on", expected: null, received: EVENT } })).toBe(
      "This change built on an earlier change the server never received",
    );
  });

  it("every typed detail is a valid wire detail, and `received` holds a value, never words", () => {
    for (const [facts] of EXAMPLES) {
      if (facts.detail === null) continue;
      expect(RejectDetail.safeParse(facts.detail).success, facts.code).toBe(true);
      if (typeof facts.detail.received === "string") expect(facts.detail.received, facts.code).not.toMatch(/ /);
    }
  });

  it("a code whose message names no subject takes none; the others carry one", () => {
    for (const [facts] of EXAMPLES) {
      const subjectless = (SUBJECTLESS_REJECT_CODES as readonly string[]).includes(facts.code);
      expect("entity_type" in facts, facts.code).toBe(!subjectless);
    }
  });

  it("a schema's invalid_payload puts its words in the message and the value it found in received", () => {
    const Schema = z.strictObject({ lines: z.array(z.strictObject({ quantity: z.int().min(1) })) });
    const sent = { lines: [{ quantity: 0 }] };
    const facts = invalidPayload(Schema.safeParse(sent).error!, sent);
    expect(facts.detail).toEqual({ field: "lines.0.quantity", expected: null, received: 0 });
    expect(facts.reason).toMatch(/>=1|too small/i);
    expect(messageOf(facts)).toBe(`The change was not valid: lines.0.quantity: ${facts.reason}`);
    // A value a detail cannot carry (an object, a fraction, a boolean) is received as null.
    for (const quantity of [{ n: 1 }, 0.5, true]) {
      const odd = { lines: [{ quantity }] };
      expect(invalidPayload(Schema.safeParse(odd).error!, odd).detail.received).toBeNull();
    }
  });

  it("a domain rule's loose detail becomes typed: words to the reason, the sent value to received", () => {
    const event = { entity_type: "invoice", operation: "update", payload: { tax_rate_bp: 99_999 }, base_version: 2, depends_on: null } as const;
    const words = fromEventRejection({ code: "invalid_payload", detail: { field: "tax_rate_bp", expected: null, received: "Too big" } }, event);
    expect(words).toMatchObject({ code: "invalid_payload", detail: { field: "tax_rate_bp", expected: null, received: 99_999 }, reason: "Too big" });
    const envelope = fromEventRejection({ code: "invalid_payload", detail: { field: "base_version", expected: null, received: "a create has no base version or dependency" } }, { ...event, operation: "create" });
    expect(envelope.detail).toEqual({ field: "base_version", expected: null, received: 2 });
    const values = fromEventRejection({ code: "invalid_payload", detail: { field: "entity_type", expected: "project", received: "invoice" } }, event);
    expect(values).toMatchObject({ detail: { field: "entity_type", expected: "project", received: "invoice" }, reason: null });
    expect(fromEventRejection({ code: "entity_deleted", detail: null }, { ...event, entity_type: "project" })).toEqual({ code: "entity_deleted", detail: null, entity_type: "project", operation: "update" });
    expect(() => fromEventRejection({ code: "version_conflict", detail: null }, event)).toThrow(/never reject with version_conflict/);
  });

  it("the typing cannot loosen: a wrong detail, a missing or extra subject, a union code do not compile", () => {
    // Checked by tsc (npm run typecheck), never run: each call must fail to compile, and if one
    // compiles, tsc reports its directive as unused.
    const typeOnly = () => {
    // @ts-expect-error version_conflict's base is a number, not words
    reject("version_conflict", { field: "base_version", expected: 2, received: "an old one" }, invoiceUpdate);
    // @ts-expect-error version_conflict's field is base_version
    reject("version_conflict", { field: "version", expected: 2, received: 1 }, invoiceUpdate);
    // @ts-expect-error payload_too_large carries sizes: a number was expected
    reject("payload_too_large", { field: null, expected: null, received: 10 });
    // @ts-expect-error entity_deleted carries no detail
    reject("entity_deleted", { field: null, expected: null, received: null }, invoiceUpdate);
    // @ts-expect-error reference_not_found names an id field, not any field
    reject("reference_not_found", { field: "title", expected: null, received: PROJECT }, invoiceUpdate);
    // @ts-expect-error depends_on_rejected's received is a reject code
    reject("depends_on_rejected", { field: "depends_on", expected: "confirmed", received: "that one failed" });
    // @ts-expect-error entity_deleted's message names its entity: the subject is required
    reject("entity_deleted", null);
    // @ts-expect-error device_mismatch's message names no entity: it takes no subject
    reject("device_mismatch", { field: "id", expected: null, received: EVENT }, invoiceUpdate);
    // @ts-expect-error invalid_payload takes its reason, not a subject
    reject("invalid_payload", { field: null, expected: null, received: null }, invoiceUpdate);
    // @ts-expect-error an unread code's context has no entity type
    rejectMessage("payload_too_large", { entity_type: "project", operation: "create", detail: { field: null, expected: 1, received: 2 } });
    // @ts-expect-error version_conflict's message needs its detail
    rejectMessage("version_conflict", invoiceUpdate);
    const someCode = "entity_deleted" as RejectCode;
    // @ts-expect-error a code only known as RejectCode cannot be given a detail: narrow it first
    rejectMessage(someCode, { entity_type: "project", operation: "update" });
    };
    expect(typeof typeOnly).toBe("function");
  });
});

describe("permission matrix", () => {
  it("a cashier rings up sales but a void needs a manager", () => {
    expect(canWrite("cashier", "pos_order", "create")).toBe(true);
    expect(canWrite("cashier", "pos_order", "void")).toBe(false);
    expect(canWrite("manager", "pos_order", "void")).toBe(true);
  });

  it("a viewer writes nothing but may read", () => {
    for (const t of EntityType.options) for (const op of Operation.options) expect(canWrite("viewer", t, op)).toBe(false);
    expect(canDo("viewer", "read")).toBe(true);
    expect(canDo("viewer", "export_snapshot")).toBe(false);
  });

  it("POS orders are append-only for every role: no update, no delete", () => {
    for (const role of Role.options) {
      expect(canWrite(role, "pos_order", "update")).toBe(false);
      expect(canWrite(role, "pos_order", "delete")).toBe(false);
    }
    expect(isOperationDefined("pos_order", "update")).toBe(false);
    expect(isOperationDefined("pos_order", "delete")).toBe(false);
  });

  it("the owner may do every defined operation", () => {
    for (const t of EntityType.options)
      for (const op of Operation.options) expect(canWrite("owner", t, op)).toBe(isOperationDefined(t, op));
  });
});
