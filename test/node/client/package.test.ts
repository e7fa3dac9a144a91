/**
 * The package a web app imports: client/build.mjs makes what `exports` names (an ESM bundle and its
 * type declarations); the bundle holds nothing of Node's or of the server's and desktop's; the
 * declarations name the API; and the client's timing constants are the desktop's.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import * as client from "../../../client/index.js";
import { PONG_TIMEOUT_MS } from "../../../desktop/sync/session.js";
import { CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS } from "../../../machines/sync-machine.js";

const root = path.resolve(import.meta.dirname, "../../..");
// Inside the repository (test-results/ is not committed), so the declarations find zod as an app's would.
mkdirSync(path.join(root, "test-results"), { recursive: true });
const out = mkdtempSync(path.join(root, "test-results", "client-build-"));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe("the @studiovault/client package", { timeout: 120_000 }, () => {
  it("builds what its exports name: an ESM bundle of browser code only, and declarations of the API", () => {
    execFileSync(process.execPath, [path.join(root, "client/build.mjs"), "--outdir", out], { stdio: "pipe" });
    const pkg = JSON.parse(readFileSync(path.join(root, "client/package.json"), "utf8")) as { name: string; type: string; exports: { ".": { types: string; import: string } } };
    expect(pkg).toMatchObject({ name: "@studiovault/client", type: "module" });
    const built = (file: string) => path.join(out, path.relative("./dist", file));
    expect(existsSync(built(pkg.exports["."].import))).toBe(true);
    expect(existsSync(built(pkg.exports["."].types))).toBe(true);

    const inputs = Object.keys((JSON.parse(readFileSync(path.join(out, "meta.json"), "utf8")) as { inputs: Record<string, unknown> }).inputs);
    // node_modules may be a link to another checkout's: its inputs are named by their real path.
    const folders = new Set(inputs.map((file) => (file.includes("node_modules/") ? `node_modules/${file.split("node_modules/")[1]!.split("/")[0]}` : file.split("/")[0])));
    expect([...folders].sort()).toEqual(["client", "domain", "lib", "machines", "node_modules/zod", "protocol"]);
    expect(inputs.filter((file) => file.startsWith("machines/"))).toEqual(["machines/backoff.ts"]);
    const bundle = readFileSync(built(pkg.exports["."].import), "utf8");
    expect(bundle).not.toMatch(/from\s*["']node:|require\(/);
    expect(bundle).toMatch(/export\s*\{[^}]*\bBranchClient\b/);

    const declarations = readFileSync(path.join(out, "types/client/branch-client.d.ts"), "utf8");
    expect(declarations).toContain("export declare class BranchClient");
    expect(readFileSync(path.join(out, "types/client/api.d.ts"), "utf8")).toContain("export declare function enroll");

    // A web app's code type-checks against the declarations alone (DOM libraries, no Node types).
    writeFileSync(
      path.join(out, "app.ts"),
      [
        'import { BranchClient, closedWords, enroll, type ApiResult, type DeviceBoard, type Observed } from "./index.js";',
        'const client = new BranchClient({ server: "https://sync.example", branch: "b", token: "t", deviceId: "d", installId: "i", app: "app/1" });',
        'client.on("observed", (o: Observed) => o.devices.map((d) => d.pending));',
        'client.on("closed", (c) => document.title = closedWords(c));',
        "const board: Promise<ApiResult<DeviceBoard>> = client.api.devices();",
        'void enroll({ server: "https://sync.example", branch: "b", code: "K7QF-9M2X" }).then((r) => r.ok && r.value.token);',
        "export { board };",
      ].join("\n"),
    );
    const tsc = path.join(root, "node_modules/typescript/bin/tsc");
    const compilerOptions = { noEmit: true, strict: true, skipLibCheck: true, target: "es2022", module: "esnext", moduleResolution: "bundler", lib: ["es2023", "dom"], types: [] };
    writeFileSync(path.join(out, "tsconfig.json"), JSON.stringify({ compilerOptions, files: ["app.ts"] }));
    execFileSync(process.execPath, [tsc, "-p", path.join(out, "tsconfig.json")], { stdio: "pipe" });
  });

  it("times its heartbeat, pong deadline and connect deadlines as the desktop does", () => {
    expect({ HEARTBEAT_MS: client.HEARTBEAT_MS, PONG_TIMEOUT_MS: client.PONG_TIMEOUT_MS, CONNECT_TIMEOUT_MS: client.CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS: client.HANDSHAKE_TIMEOUT_MS }).toEqual({
      HEARTBEAT_MS,
      PONG_TIMEOUT_MS,
      CONNECT_TIMEOUT_MS,
      HANDSHAKE_TIMEOUT_MS,
    });
  });

  it("stops for good after the protocol's terminal closes and superseded; backs off after the rest", () => {
    const terminal = client.CloseReason.options.filter((r) => client.isTerminal(r)).sort();
    expect(terminal).toEqual(["device_revoked", "forbidden", "install_conflict", "protocol_too_old", "replaced", "superseded", "token_expired", "unauthorized"]);
  });
});
