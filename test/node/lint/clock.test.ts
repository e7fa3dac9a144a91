/**
 * I13: the renderer has no clock of its own. It takes `now` and the branch's `today` from the core
 * (AppStatus.clock), which takes them from the store's injected clock, so the app shows the same
 * day whatever the browser's clock or zone says, and tests run on any date in any zone.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const RENDERER = path.resolve(import.meta.dirname, "../../../desktop/renderer");

/** Reads of the wall clock: `Date.now()`, `new Date()` and `Date()` with no argument. */
const WALL_CLOCK = /\bDate\.now\s*\(|\bnew\s+Date\s*\(\s*\)|(?<![\w.])(?<!new\s)Date\s*\(\s*\)/g;

function wallClockReads(source: string): Array<{ line: number; text: string }> {
  const hits: Array<{ line: number; text: string }> = [];
  source.split("\n").forEach((text, i) => {
    const code = text.replace(/\/\/.*$/, ""); // a comment may name what it must not do
    if (WALL_CLOCK.test(code)) hits.push({ line: i + 1, text: text.trim() });
    WALL_CLOCK.lastIndex = 0;
  });
  return hits;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === "dist" ? [] : sources(full);
    return /\.(ts|tsx)$/.test(e.name) ? [full] : [];
  });
}

describe("the renderer never reads the wall clock (I13)", () => {
  it("finds Date.now(), new Date() and Date() with no argument, and nothing else", () => {
    expect(wallClockReads("const t = Date.now();").length).toBe(1);
    expect(wallClockReads("const d = new Date();").length).toBe(1);
    expect(wallClockReads("const d = new Date( );").length).toBe(1);
    expect(wallClockReads("const s = Date();").length).toBe(1);
    expect(wallClockReads("const d = new Date(status.clock.now_ms);").length).toBe(0);
    expect(wallClockReads("const ms = Date.parse(iso);").length).toBe(0);
    expect(wallClockReads("// never Date.now() here").length).toBe(0);
  });

  it("no file under desktop/renderer/ reads it", () => {
    const files = sources(RENDERER);
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.flatMap((f) => wallClockReads(readFileSync(f, "utf8")).map((h) => `${path.relative(RENDERER, f)}:${h.line}: ${h.text}`));
    expect(offenders, "take now/today from the status's clock (AppStatus.clock)").toEqual([]);
  });
});
