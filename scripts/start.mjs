#!/usr/bin/env node
/**
 * `npm start [-- --server-only]`: the main job on local defaults.
 *
 * 1. The Worker under workerd (`wrangler dev`), state persisted in .wrangler/state so it survives
 *    restarts, bound to loopback only.
 *    It also serves the dashboard (dashboard/, built here first) at http://127.0.0.1:8787/; the URL
 *    printed carries a dashboard sign-in in its fragment (an owner token of the dashboard's own device).
 * 2. Once it is up, the desktop app in browser mode on http://127.0.0.1:5199 (DESKTOP_PORT), with
 *    its own database in .data/browser.sqlite, bound on first run to branch "demo" as a manager.
 *    The Electron window is `npm run desktop` (a second device, .data/desktop.sqlite).
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
const desktopPort = Number(process.env.DESKTOP_PORT ?? 5199);
const serverOnly = process.argv.includes("--server-only");
const unknown = process.argv.slice(2).filter((a) => a !== "--server-only");
if (unknown.length > 0) {
  console.error(`unknown argument ${JSON.stringify(unknown[0])}; usage: npm start [-- --server-only]`);
  process.exit(2);
}
if (!Number.isInteger(desktopPort) || desktopPort < 1 || desktopPort > 65535) {
  console.error(`DESKTOP_PORT must be a TCP port number (1-65535), got ${JSON.stringify(process.env.DESKTOP_PORT)}`);
  process.exit(2);
}
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number (1-65535), got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

// A development secret in .dev.vars (created on first run) and a token to try the server with.
const branch = process.env.BRANCH ?? "demo";
const tsx = path.join(root, "node_modules", ".bin", "tsx");
const mint = (role, user, device) => {
  try {
    return execFileSync(tsx, ["scripts/token.ts", "--branch", branch, "--role", role, "--user", user, "--ttl", "30d", ...(device ? ["--device", device] : [])], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
  } catch {
    console.error(`could not mint a development token for branch ${JSON.stringify(branch)} (set BRANCH to a valid branch id)`);
    process.exit(2);
  }
};
const devToken = mint("owner", "dev");

/**
 * The dashboard is a device of the branch like any other, with a device id of its own, kept in
 * .data/dashboard-device-id so restarts do not add a new device each time. Never the desktop's id: a
 * second connection with a device's id replaces the first, and the desktop would lose its own.
 */
function dashboardDeviceId() {
  const file = path.join(root, ".data", "dashboard-device-id");
  if (existsSync(file)) {
    const kept = readFileSync(file, "utf8").trim();
    if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(kept)) return kept;
  }
  const id = randomUUID();
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${id}\n`);
  return id;
}
const dashboardToken = mint("owner", "dashboard", dashboardDeviceId());

// The dashboard's files, served by the Worker as static assets (wrangler.toml [assets]); wrangler dev
// refuses to start without them.
try {
  execFileSync(process.execPath, ["scripts/build-dashboard.mjs"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
} catch {
  console.error("could not build the dashboard (the error is above)");
  process.exit(1);
}

const wrangler = path.join(root, "node_modules", ".bin", "wrangler");
const args = ["dev", "--ip", "127.0.0.1", "--port", String(port), "--persist-to", ".wrangler/state", "--show-interactive-dev-session=false"];
const child = spawn(wrangler, args, {
  cwd: root,
  stdio: ["ignore", "pipe", "inherit"],
  env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" },
});

let announced = false;
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  if (!announced && /Ready on/.test(String(chunk))) {
    announced = true;
    console.log(
      [
        "",
        `StudioVault Sync server: http://127.0.0.1:${port}  (health: http://127.0.0.1:${port}/health)`,
        `Dashboard: http://127.0.0.1:${port}/#branch=${branch}&token=${dashboardToken}`,
        "  (opens signed in as the branch's owner; the sign-in is then kept in that browser)",
        `Branch "${branch}": ws://127.0.0.1:${port}/v1/branches/${branch}/sync?token=<token>`,
        "State is persisted in .wrangler/state. Stop with Ctrl-C.",
        "",
        `A development owner token for branch "${branch}" (30 days; more with \`npm run token -- --help\`):`,
        devToken,
        "",
        `Try it: curl -H "Authorization: Bearer <token>" "http://127.0.0.1:${port}/v1/branches/${branch}/changes?since=0"`,
        "",
        "More devices, in another terminal:",
        "  npm run desktop                              (the Electron window; a device of its own)",
        `  npx studiovault --db shoot.sqlite init --server http://127.0.0.1:${port} --token ${devToken.slice(0, 12)}…`,
        "  npx studiovault --db shoot.sqlite pos sale --item 'Passport photos:2:800' --method cash --tendered 2000",
        "  npx studiovault --db shoot.sqlite sync       (or: watch)",
        "",
      ].join("\n"),
    );
    if (!serverOnly) startDesktop();
  }
});

/** The desktop app in browser mode, as a device of the branch (bound on first run). */
let desktop = null;
function startDesktop() {
  try {
    execFileSync(process.execPath, ["scripts/build-renderer.mjs"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  } catch {
    console.error("could not build the desktop app's renderer (the error is above); the server keeps running");
    return;
  }
  desktop = spawn(tsx, ["scripts/desktop-browser.ts", "--db", ".data/browser.sqlite", "--port", String(desktopPort), "--server", `http://127.0.0.1:${port}`], {
    cwd: root,
    stdio: ["ignore", "inherit", "inherit"],
    env: { ...process.env, STUDIOVAULT_TOKEN: mint("manager", "front-desk") },
  });
  desktop.on("exit", (code) => {
    desktop = null;
    if (code) console.error(`the desktop app (browser mode) stopped with status ${code}; the server keeps running`);
  });
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    desktop?.kill(signal);
    child.kill(signal);
  });
}
child.on("exit", (code, signal) => {
  desktop?.kill("SIGTERM");
  process.exit(code ?? (signal ? 1 : 0));
});
