/**
 * The protocol documents must match the schemas. docs/protocol.md is the index of four documents:
 *  - docs/protocol/wire.md:         messages, limits, versions and fingerprints, close codes;
 *  - docs/protocol/domain.md:       entities, processing order, reject codes and their texts;
 *  - docs/protocol/http.md:         the Worker's HTTP routes;
 *  - docs/protocol/client-guide.md: how to write a client.
 * Every complete JSON example in any of them is valid; every message type, reject code, close code,
 * limit, version and history fingerprint is documented in the file that holds it; every link
 * between the documents (and from README.md into docs/) reaches an existing file and heading.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_STRIKES } from "../../../durable/core/room.js";
import { ClientMessage, CLOSE_CODES, ErrorMessage, MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_HISTORY, PROTOCOL_VERSION, ServerMessage } from "../../../protocol/index.js";
import { Entity, RejectCode, rejectMessage, SyncEvent } from "../../../domain/index.js";
import * as domainLimits from "../../../domain/limits.js";
import * as protocolLimits from "../../../protocol/limits.js";

const root = path.resolve(import.meta.dirname, "../../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");

const INDEX = "docs/protocol.md";
const WIRE = "docs/protocol/wire.md";
const DOMAIN = "docs/protocol/domain.md";
const HTTP = "docs/protocol/http.md";
const GUIDE = "docs/protocol/client-guide.md";
const PARTS = [WIRE, DOMAIN, HTTP, GUIDE];

const docs = Object.fromEntries([INDEX, ...PARTS].map((file) => [file, read(file)]));
const wire = docs[WIRE]!;
const domain = docs[DOMAIN]!;

const jsonExamples = (text: string) => [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);
const tableRows = (text: string) => text.split("\n").filter((l) => l.startsWith("|"));

describe("docs/protocol.md and docs/protocol/*.md", () => {
  it("the index names each of the four documents", () => {
    for (const part of PARTS) expect(docs[INDEX], part).toContain(`](${path.relative("docs", part)})`);
  });

  it("every complete JSON example is valid against its schema", () => {
    let checked = 0;
    for (const file of PARTS) {
      for (const text of jsonExamples(docs[file]!)) {
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
        if (schema === null) continue; // an HTTP body
        const result = schema.safeParse(value);
        expect(result.success, `${file}: ${text.slice(0, 120)}\n${result.error?.message}`).toBe(true);
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(8);
  });

  it("wire.md documents every message type and close code", () => {
    for (const option of [...ClientMessage.options, ...ServerMessage.options]) {
      expect(wire, option.shape.type.value).toContain(`### ${option.shape.type.value}`);
    }
    const rows = tableRows(wire);
    for (const [reason, code] of Object.entries(CLOSE_CODES)) {
      const row = rows.find((l) => l.includes(`\`${reason}\``) && l.includes(` ${code} `));
      expect(row, `a table row in ${WIRE} with ${reason} and ${code}`).toBeDefined();
    }
  });

  it("domain.md documents every reject code", () => {
    for (const code of RejectCode.options) expect(domain, code).toContain(`| \`${code}\``);
  });

  it("wire.md quotes the exact message of the seed's conflict", () => {
    expect(rejectMessage("entity_deleted", { entity_type: "project", operation: "update" })).toBe("Project was deleted remotely");
    expect(wire).toContain('"message": "Project was deleted remotely"');
  });

  it("wire.md lists every limit (protocol/limits.ts, domain/limits.ts) with its value", () => {
    const rows = tableRows(wire);
    const entries = Object.entries({ ...protocolLimits, ...domainLimits }).filter((e): e is [string, number] => typeof e[1] === "number");
    expect(entries.length).toBeGreaterThanOrEqual(16);
    for (const [name, value] of entries) {
      const row = rows.find((l) => l.startsWith(`| \`${name}\` | ${value.toLocaleString("en-US")}`));
      expect(row, `a row "| \`${name}\` | ${value.toLocaleString("en-US")} …" in ${WIRE}`).toBeDefined();
    }
  });

  it("wire.md states the protocol versions and every history entry with its fingerprint", () => {
    expect(wire.split("\n")[0], "the title names the current version").toContain(`protocol version ${PROTOCOL_VERSION}`);
    expect(docs[INDEX]!.split("\n")[0]).toContain(`version ${PROTOCOL_VERSION}`);
    const rows = tableRows(wire);
    expect(rows.find((l) => l.startsWith(`| \`PROTOCOL_VERSION\` | ${PROTOCOL_VERSION} |`))).toBeDefined();
    expect(rows.find((l) => l.startsWith(`| \`MIN_SUPPORTED_PROTOCOL_VERSION\` | ${MIN_SUPPORTED_PROTOCOL_VERSION} |`))).toBeDefined();
    for (const entry of PROTOCOL_HISTORY) {
      const row = rows.find((l) => l.startsWith(`| ${entry.version} |`) && l.includes(`\`${entry.fingerprint}\``));
      expect(row, `history row for v${entry.version} with its fingerprint`).toBeDefined();
    }
    expect(PROTOCOL_HISTORY.at(-1)!.version).toBe(PROTOCOL_VERSION);
  });

  it("wire.md documents v4's error.in_reply_to with a valid example", () => {
    expect(ErrorMessage.shape.in_reply_to).toBeDefined();
    const section = wire.slice(wire.indexOf("#### error"), wire.indexOf("\n## ", wire.indexOf("#### error")));
    expect(section).toContain("| `in_reply_to` |");
    const examples = jsonExamples(section).map((t) => JSON.parse(t) as Record<string, unknown>);
    const named = examples.find((e) => typeof e.in_reply_to === "string");
    expect(named, "an error example naming its request").toBeDefined();
    expect(ErrorMessage.safeParse(named).success).toBe(true);
  });

  it("states the malformed-frame limit once, with MAX_STRIKES's value", () => {
    expect(wire).toContain(`\`MAX_STRIKES\` = ${MAX_STRIKES}`);
    for (const file of [INDEX, ...PARTS]) {
      // No other count of malformed frames ("8 malformed frames", "after 8 … errors in a row").
      expect(docs[file], file).not.toMatch(/\b\d+ (malformed|`malformed_message`)/);
    }
  });

  it("every link between the documents, and from README.md into docs/, reaches a file and a heading", () => {
    const sources = [INDEX, ...PARTS, "docs/benchmarks.md", "README.md"];
    let links = 0;
    for (const source of sources) {
      for (const [target, anchor] of markdownLinks(read(source))) {
        if (/^[a-z]+:/i.test(target)) continue; // http:, mailto:
        if (source === "README.md" && !target.startsWith("docs/")) continue;
        const file = target === "" ? source : path.join(path.dirname(source), target);
        expect(existsSync(path.join(root, file)), `${source}: link to ${target}`).toBe(true);
        if (anchor !== null && file.endsWith(".md")) {
          expect(headingSlugs(read(file)), `${source}: link to ${target}#${anchor}`).toContain(anchor);
        }
        links++;
      }
    }
    expect(links).toBeGreaterThanOrEqual(40);
  });
});

/** Markdown links outside code blocks and code spans: [target path, anchor or null]. */
function markdownLinks(text: string): [string, string | null][] {
  const prose = text.replace(/```[\s\S]*?```/g, "").replace(/`[^`\n]*`/g, (span) => (span.includes("](") ? "" : span));
  return [...prose.matchAll(/\]\(([^)\s]*)\)/g)].map((m) => {
    const [target, anchor] = m[1]!.split("#", 2) as [string, string | undefined];
    return [target, anchor ?? null];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function headingSlugs(text: string): string[] {
  const seen = new Map<string, number>();
  const prose = text.replace(/```[\s\S]*?```/g, "");
  return [...prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => {
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, "")
      .replace(/ /g, "-");
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    return n === 0 ? base : `${base}-${n}`;
  });
}
