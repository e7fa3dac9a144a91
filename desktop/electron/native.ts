/**
 * better-sqlite3 for Electron, beside the Node build rather than over it.
 *
 * Electron embeds its own Node with another ABI (NODE_MODULE_VERSION), so the addon npm built for
 * Node cannot load in Electron's main process, and rebuilding it in place (what @electron/rebuild
 * does) would break the CLI and the tests. Instead the package is copied to
 * `.electron-native/<electron>-<platform>-<arch>/better-sqlite3` and built there for Electron, the
 * way its own install script builds for Node: a prebuilt binary (prebuild-install) first, a
 * compile (node-gyp against Electron's headers) if there is none. Electron's main process loads it
 * with better-sqlite3's `nativeBinding` option.
 */
import { cpSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

export interface NativeTarget {
  /** "electron" for the app; "node" builds for a Node version (used to check this file itself). */
  runtime: "electron" | "node";
  /** The runtime's version, e.g. 45.4.1. */
  version: string;
  platform: NodeJS.Platform;
  arch: string;
}

/** Runs a command in a folder and resolves to its exit status. */
export type RunCommand = (command: string, args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }) => Promise<number>;

export interface NativeBuild {
  /** The addon to pass as `nativeBinding`. */
  binding: string;
  /** How it was obtained this time. */
  how: "present" | "prebuilt" | "compiled";
}

export class NativeBuildError extends Error {}

export const ELECTRON_HEADERS_URL = "https://electronjs.org/headers";

export function nativeDir(root: string, target: NativeTarget): string {
  return path.join(root, ".electron-native", `${target.runtime}-${target.version}-${target.platform}-${target.arch}`, "better-sqlite3");
}

/** The commands tried, in order: a prebuilt binary, then a compile. */
export function buildCommands(sourcePackage: string, target: NativeTarget, nodeGyp: string | null): Array<{ command: string; args: string[] }> {
  const require = createRequire(path.join(sourcePackage, "package.json"));
  const prebuildInstall = require.resolve("prebuild-install/bin.js");
  const commands = [
    {
      command: process.execPath,
      args: [prebuildInstall, "--runtime", target.runtime, "--target", target.version, "--platform", target.platform, "--arch", target.arch, "--verbose"],
    },
  ];
  if (nodeGyp) {
    commands.push({
      command: process.execPath,
      args: [
        nodeGyp,
        "rebuild",
        "--release",
        `--runtime=${target.runtime}`,
        `--target=${target.version}`,
        `--arch=${target.arch}`,
        ...(target.runtime === "electron" ? [`--dist-url=${ELECTRON_HEADERS_URL}`] : []),
      ],
    });
  }
  return commands;
}

/** npm's own node-gyp (npm ships one and tells scripts where it is). */
export function findNodeGyp(env: NodeJS.ProcessEnv): string | null {
  const candidates = [env.npm_config_node_gyp, env.npm_execpath && path.join(path.dirname(env.npm_execpath), "..", "node_modules", "node-gyp", "bin", "node-gyp.js")];
  return candidates.find((c): c is string => typeof c === "string" && c !== "" && existsSync(c)) ?? null;
}

/**
 * The addon for `target`, building it if it is not there yet. The copy is built in a staging folder
 * and renamed into place, so an interrupted build never leaves a half-built addon that looks done.
 */
export async function ensureNativeBinding(opts: { root: string; sourcePackage: string; target: NativeTarget; run: RunCommand; env: NodeJS.ProcessEnv; log?: (line: string) => void }): Promise<NativeBuild> {
  const dir = nativeDir(opts.root, opts.target);
  const binding = path.join(dir, "build", "Release", "better_sqlite3.node");
  if (existsSync(binding)) return { binding, how: "present" };

  const staging = `${dir}.partial`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(path.dirname(staging), { recursive: true });
  // The sources only: the Node build in build/ must not be mistaken for ours.
  cpSync(opts.sourcePackage, staging, { recursive: true, filter: (src) => path.relative(opts.sourcePackage, src).split(path.sep)[0] !== "build" });

  // The build must not inherit npm settings meant for the Node build (a nodedir with Node's
  // headers, a runtime/target from the environment).
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(opts.env)) if (!/^npm_config_(nodedir|runtime|target|arch|disturl|dist_url|build_from_source)$/i.test(k)) env[k] = v;

  const nodeGyp = findNodeGyp(opts.env);
  const tried: string[] = [];
  for (const [i, step] of buildCommands(opts.sourcePackage, opts.target, nodeGyp).entries()) {
    opts.log?.(i === 0 ? `looking for a prebuilt better-sqlite3 for ${opts.target.runtime} ${opts.target.version} (${opts.target.platform}-${opts.target.arch})…` : "none found; compiling it (a minute or two)…");
    const status = await opts.run(step.command, step.args, { cwd: staging, env });
    const built = path.join(staging, "build", "Release", "better_sqlite3.node");
    if (status === 0 && existsSync(built)) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
      return { binding, how: i === 0 ? "prebuilt" : "compiled" };
    }
    tried.push(`${path.basename(step.args[0] ?? step.command)} exited with ${status}`);
  }
  rmSync(staging, { recursive: true, force: true });
  throw new NativeBuildError(
    [
      `could not get better-sqlite3 for ${opts.target.runtime} ${opts.target.version} (${tried.join("; ")}).`,
      "It needs one of:",
      "  - the network, to download a prebuilt binary from GitHub (github.com/WiseLibs/better-sqlite3/releases);",
      `  - or a C++ toolchain (build-essential, python3) and the network for ${opts.target.runtime === "electron" ? `Electron's headers (${ELECTRON_HEADERS_URL})` : "Node's headers"}.`,
      nodeGyp ? "" : "node-gyp was not found: run this through npm (`npm run desktop`), which provides it.",
    ]
      .filter(Boolean)
      .join("\n"),
  );
}
