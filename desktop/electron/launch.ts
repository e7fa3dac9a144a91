/**
 * `npm run desktop -- [--db PATH] [--server URL --token TOKEN] [--offline] [--prepare]`
 *
 * Launches the Electron app on a developer's machine, doing whatever is missing first:
 *   1. the database: bound to a branch with --server/--token, or, when neither is given and the
 *      local server from `npm start` is up, to its "demo" branch with a fresh development token;
 *   2. Electron's binary: npm does not run Electron's download script (package.json allowScripts),
 *      so it is fetched here on first launch;
 *   3. better-sqlite3 built for Electron's ABI, beside the Node build (native.ts);
 *   4. the main and preload bundles (esbuild).
 * Whatever cannot be done is said in plain words with the exact command that fixes it, and the
 * exit status is 1 (2 for bad arguments). `--prepare` does 1-4 and stops, e.g. to set up while
 * online before going on location.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { build, type BuildOptions } from "esbuild";
import { err, ok, type Result } from "../../lib/result.js";
import { flagHelpLines, flagSynopsis, type FlagTable, parseFlags } from "../cli/args.js";
import { LocalStore } from "../store/local-store.js";
import { ensureNativeBinding, NativeBuildError, type RunCommand } from "./native.js";

const ROOT = path.resolve(import.meta.dirname, "../..");
const ELECTRON_DIR = path.join(ROOT, "node_modules", "electron");
const DIST = path.join(ROOT, "desktop", "electron", "dist");
const DEFAULT_DB = path.join(ROOT, ".data", "desktop.sqlite");
const LOCAL_SERVER = "http://127.0.0.1:8787";

const FLAGS = {
  db: { type: "string", value: "PATH", help: "the local database (default .data/desktop.sqlite)" },
  server: { type: "string", value: "URL", help: "the sync server, to bind a new database to a branch (with --token)" },
  token: { type: "string", value: "TOKEN", help: "the device token for it (npm run token -- --help)" },
  offline: { type: "boolean", help: "start with sync paused" },
  prepare: { type: "boolean", help: "get everything ready (Electron, native module, bundles, database), but do not launch" },
  help: { type: "boolean", short: "h", help: "print this and launch nothing" },
} as const satisfies FlagTable;

/** Generated from FLAGS, so a flag cannot be added without being documented. */
export const USAGE = [
  `usage: npm run desktop -- [${flagSynopsis("db", FLAGS.db)}] [${flagSynopsis("server", FLAGS.server)} ${flagSynopsis("token", FLAGS.token)}] [--offline] [--prepare]`,
  "",
  ...flagHelpLines(FLAGS, "  "),
].join("\n");

export interface LaunchArgs {
  db: string;
  server: string | null;
  token: string | null;
  offline: boolean;
  prepare: boolean;
  help: boolean;
}

export function parseLaunchArgs(argv: string[]): Result<LaunchArgs, string> {
  // The one parser and error wording of every command line (desktop/cli/args.ts).
  const parsed = parseFlags(argv, FLAGS, { example: "--db .data/desktop.sqlite" });
  if (!parsed.ok) return err(`${parsed.error}\n${USAGE}`);
  const { values } = parsed.value;
  if ((values.server === undefined) !== (values.token === undefined)) return err("--server and --token go together: a server without a device token (or a token without its server) cannot bind a database");
  if (values.server !== undefined && !/^https?:\/\/[^\s/]+/.test(values.server)) return err(`--server: received ${JSON.stringify(values.server)}, expected a URL like http://127.0.0.1:8787`);
  return ok({
    db: path.resolve(values.db ?? DEFAULT_DB),
    server: values.server ?? null,
    token: values.token ?? null,
    offline: values.offline ?? false,
    prepare: values.prepare ?? false,
    help: values.help ?? false,
  });
}

/** Electron's executable when it is installed (or overridden), else null. */
export function electronExecutable(electronDir: string, env: NodeJS.ProcessEnv): string | null {
  const pathFile = path.join(electronDir, "path.txt");
  const relative = existsSync(pathFile) ? readFileSync(pathFile, "utf8").trim() : null;
  if (env.ELECTRON_OVERRIDE_DIST_PATH) {
    const candidate = path.join(env.ELECTRON_OVERRIDE_DIST_PATH, relative ?? (process.platform === "win32" ? "electron.exe" : "electron"));
    return existsSync(candidate) ? candidate : null;
  }
  if (!relative) return null;
  const executable = path.join(electronDir, "dist", relative);
  return existsSync(executable) ? executable : null;
}

export function electronMissingHelp(version: string, db: string): string {
  return [
    `Electron ${version}'s binary is not installed, and downloading it failed (is this machine offline?).`,
    "Do one of these, then run `npm run desktop` again:",
    `  - connect to the internet: the download happens once (about 100 MB, from github.com/electron/electron/releases);`,
    "  - behind a proxy or mirror: ELECTRON_MIRROR=https://<your-mirror>/electron/ npm run desktop",
    `  - with Electron ${version} unpacked somewhere: ELECTRON_OVERRIDE_DIST_PATH=/path/to/electron-folder npm run desktop`,
    "Meanwhile the same app runs in any browser, on the same core:",
    `  npm run desktop:browser -- --db ${JSON.stringify(db)}`,
  ].join("\n");
}

const runInherit: RunCommand = (command, args, { cwd, env }) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: "inherit" });
    child.on("error", () => resolve(127));
    child.on("exit", (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });

const say = (line: string) => console.log(`· ${line}`);

/** Something the launcher cannot do; its message says what will. Exit status 1. */
class LaunchError extends Error {}

async function ensureDatabase(args: LaunchArgs): Promise<string> {
  mkdirSync(path.dirname(args.db), { recursive: true });
  const store = LocalStore.open(args.db);
  const config = store.config();
  store.close();
  if (config) {
    if (args.server) say(`note: ${args.db} is already bound to branch ${config.branch_id}; --server/--token ignored`);
    return `${args.db} (branch ${config.branch_id}, ${config.user_id} as ${config.role})`;
  }
  let server = args.server;
  let token = args.token;
  if (!server || !token) {
    const local = await fetch(`${LOCAL_SERVER}/health`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (!local) {
      throw new LaunchError(
        [
          `${args.db} is not bound to a studio branch yet, and no server was given.`,
          "Either start the local server in another terminal (`npm start`) and run `npm run desktop` again,",
          `or bind it to your studio's server: npm run desktop -- --db ${JSON.stringify(args.db)} --server <URL> --token <TOKEN>`,
        ].join("\n"),
      );
    }
    server = LOCAL_SERVER;
    token = await mintDevToken();
    say(`binding ${args.db} to branch "demo" on the local server (${LOCAL_SERVER}) as a manager`);
  }
  const status = await runInherit(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "desktop", "cli", "main.ts"), "--db", args.db, "init", "--server", server, "--token", token], { cwd: ROOT, env: process.env });
  if (status !== 0) throw new LaunchError(`could not bind ${args.db} to the branch (studiovault init exited with ${status}; its message is above)`);
  return args.db;
}

function mintDevToken(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "scripts", "token.ts"), "--branch", process.env.BRANCH ?? "demo", "--role", "manager", "--user", "desktop", "--ttl", "30d"], { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d) => (out += String(d)));
    child.on("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new LaunchError("could not mint a development token (npm run token failed; its message is above)"))));
  });
}

async function ensureElectron(version: string, db: string): Promise<string> {
  const present = electronExecutable(ELECTRON_DIR, process.env);
  if (present) return present;
  if (process.env.ELECTRON_OVERRIDE_DIST_PATH) throw new LaunchError(`ELECTRON_OVERRIDE_DIST_PATH=${process.env.ELECTRON_OVERRIDE_DIST_PATH} has no Electron executable in it`);
  say(`downloading Electron ${version} (first launch only)…`);
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  const status = await runInherit(process.execPath, [path.join(ELECTRON_DIR, "install.js")], { cwd: ELECTRON_DIR, env });
  const installed = electronExecutable(ELECTRON_DIR, process.env);
  if (status !== 0 || !installed) throw new LaunchError(electronMissingHelp(version, db));
  return installed;
}

/** Bundles Electron's main and preload scripts into desktop/electron/dist (main.ts finds the renderer from there). */
export async function bundle(): Promise<{ main: string; preload: string }> {
  const main = path.join(DIST, "main.cjs");
  const preload = path.join(DIST, "preload.cjs");
  const common: BuildOptions = { bundle: true, format: "cjs", platform: "node", target: "node22", sourcemap: true, logLevel: "warning", external: ["electron"] };
  await Promise.all([
    // better-sqlite3 loads its addon at run time and ws has optional native helpers: both stay in node_modules.
    build({ ...common, entryPoints: [path.join(ROOT, "desktop", "electron", "main.ts")], outfile: main, external: ["electron", "better-sqlite3", "ws", "bufferutil", "utf-8-validate"] }),
    build({ ...common, entryPoints: [path.join(ROOT, "desktop", "electron", "preload.ts")], outfile: preload }),
  ]);
  return { main, preload };
}

async function main(argv: string[]): Promise<number> {
  const parsed = parseLaunchArgs(argv);
  if (!parsed.ok) {
    console.error(parsed.error);
    return 2;
  }
  const args = parsed.value;
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const version = (JSON.parse(readFileSync(path.join(ELECTRON_DIR, "package.json"), "utf8")) as { version: string }).version;
  try {
    say(`database: ${await ensureDatabase(args)}`);
    const executable = await ensureElectron(version, args.db);
    say(`Electron ${version}: ${path.relative(ROOT, executable)}`);
    const native = await ensureNativeBinding({
      root: ROOT,
      sourcePackage: path.join(ROOT, "node_modules", "better-sqlite3"),
      target: { runtime: "electron", version, platform: process.platform, arch: process.arch },
      run: runInherit,
      env: process.env,
      log: say,
    });
    say(`better-sqlite3 for Electron (${native.how}): ${path.relative(ROOT, native.binding)}`);
    const bundles = await bundle();
    say(`bundles: ${path.relative(ROOT, bundles.main)}, ${path.relative(ROOT, bundles.preload)}`);
    if (args.prepare) {
      say("ready; `npm run desktop` launches it");
      return 0;
    }
    if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
      throw new LaunchError(`there is no graphical display here (neither DISPLAY nor WAYLAND_DISPLAY is set). On a headless machine use browser mode:\n  npm run desktop:browser -- --db ${JSON.stringify(args.db)}`);
    }
    const env: NodeJS.ProcessEnv = { ...process.env, STUDIOVAULT_DB: args.db, STUDIOVAULT_SQLITE_BINDING: native.binding, ...(args.offline ? { STUDIOVAULT_OFFLINE: "1" } : {}) };
    delete env.ELECTRON_RUN_AS_NODE;
    return await runInherit(executable, [bundles.main], { cwd: ROOT, env });
  } catch (error) {
    if (error instanceof LaunchError || error instanceof NativeBuildError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  process.exitCode = await main(process.argv.slice(2));
}
