/**
 * The renderer's bundle holds the UI and the pure functions it shows (money, totals, days), not the
 * validation library or anything of the main process: every input esbuild would bundle is listed and
 * checked. The store validates every write; the renderer only displays.
 */
import { build } from "esbuild";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "browser",
    jsx: "automatic",
    jsxImportSource: "preact",
    logLevel: "silent",
  });
  return Object.keys(result.metafile.inputs);
}

/** What the renderer must never carry. */
const forbidden = (input: string) =>
  /node_modules\/zod\//.test(input) || /^(durable|sqlite|desktop\/(store|sync|electron|cli))\//.test(input) || /^(domain|protocol)\/index\.ts$/.test(input);

describe("the renderer bundle", () => {
  it("has no zod, no barrel and nothing of the main process or the server", async () => {
    const inputs = await bundledInputs(path.join(root, "desktop/renderer/main.tsx"));
    expect(inputs.length).toBeGreaterThan(10);
    expect(inputs.filter(forbidden)).toEqual([]);
  });

  it("would notice if zod came back (the check can fail)", async () => {
    const inputs = await bundledInputs(path.join(root, "domain/money.ts"));
    expect(inputs.filter(forbidden).some((i) => i.includes("zod"))).toBe(true);
  });
});
