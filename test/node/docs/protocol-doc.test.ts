/**
 * docs/protocol.md must match the schemas: every complete JSON example in it is valid, and every
 * message type, reject code and close code is documented.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  ClientMessage,
  CLOSE_CODES,
  Entity,
  RejectCode,
  rejectMessage,
  ServerMessage,
  SyncEvent,
} from "../../../schema/index.js";

const doc = readFileSync(path.resolve(import.meta.dirname, "../../../docs/protocol.md"), "utf8");
const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe("docs/protocol.md", () => {
  it("every complete JSON example is valid against its schema", () => {
    let checked = 0;
    for (const text of examples) {
      if (text.includes("…")) continue; // elided on purpose
      const value = JSON.parse(text) as Record<string, unknown>;
      const schema =
        "type" in value
          ? ClientMessage.safeParse(value).success
            ? ClientMessage
            : ServerMessage
          : "operation" in value
            ? SyncEvent
            : "entity_type" in value
              ? Entity
              : null;
      if (schema === null) continue; // an HTTP error body
      const result = schema.safeParse(value);
      expect(result.success, `${text.slice(0, 120)}\n${result.error?.message}`).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it("documents every message type, reject code and close code", () => {
    for (const option of [...ClientMessage.options, ...ServerMessage.options]) {
      expect(doc, option.shape.type.value).toContain(`### ${option.shape.type.value}`);
    }
    for (const code of RejectCode.options) expect(doc, code).toContain(`| \`${code}\``);
    const lines = doc.split("\n");
    for (const [reason, code] of Object.entries(CLOSE_CODES)) {
      const row = lines.find((l) => l.startsWith("|") && l.includes(`\`${reason}\``) && l.includes(` ${code} `));
      expect(row, `a table row with ${reason} and ${code}`).toBeDefined();
    }
  });

  it("quotes the exact message of the seed's conflict", () => {
    expect(rejectMessage("entity_deleted", { entity_type: "project", operation: "update" })).toBe("Project was deleted remotely");
    expect(doc).toContain('"message": "Project was deleted remotely"');
  });
});
