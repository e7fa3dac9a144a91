import { describe, expect, it } from "vitest";
import { canDo, canWrite, EntityType, isOperationDefined, Operation, RejectCode, rejectMessage, Role } from "../../../domain/index.js";

describe("reject codes", () => {
  it("the seed's scenario reads exactly 'Project was deleted remotely'", () => {
    expect(rejectMessage("entity_deleted", { entity_type: "project", operation: "update" })).toBe(
      "Project was deleted remotely",
    );
  });

  it("version conflicts say what was expected and what was received", () => {
    const detail = { field: "base_version", expected: 5, received: 3 };
    expect(rejectMessage("version_conflict", { entity_type: "invoice", operation: "update", detail })).toBe(
      "Invoice was changed remotely (your change was based on version 3; the server has version 5)",
    );
  });

  it("every code has a non-empty message for every entity type and operation", () => {
    for (const code of RejectCode.options)
      for (const entity_type of EntityType.options)
        for (const operation of Operation.options) {
          const msg = rejectMessage(code, { entity_type, operation, role: "viewer" });
          expect(msg.length, `${code}/${entity_type}/${operation}`).toBeGreaterThan(10);
          expect(msg).not.toMatch(/undefined/);
        }
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
