#!/usr/bin/env node
/**
 * `npm start`: the main job on local defaults.
 *
 * Starts the Worker locally with `wrangler dev` (workerd), state persisted in .wrangler/state so it
 * survives restarts, bound to loopback only. Says plainly which parts are not built yet.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const port = Number(process.env.PORT ?? 8787);
if (!Number.isInteger(port) || port < 1 || port > 65535) {
  console.error(`PORT must be a TCP port number (1-65535), got ${JSON.stringify(process.env.PORT)}`);
  process.exit(2);
}

// A development secret in .dev.vars (created on first run) and a token to try the server with.
const branch = process.env.BRANCH ?? "demo";
let devToken;
try {
  devToken = execFileSync(path.join(root, "node_modules", ".bin", "tsx"), ["scripts/token.ts", "--branch", branch, "--role", "owner", "--user", "dev", "--ttl", "30d"], {
    cwd: root,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
} catch {
  console.error(`could not mint a development token for branch ${JSON.stringify(branch)} (set BRANCH to a valid branch id)`);
  process.exit(2);
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
        `Branch "${branch}": ws://127.0.0.1:${port}/v1/branches/${branch}/sync?token=<token>`,
        "State is persisted in .wrangler/state. Stop with Ctrl-C.",
        "",
        `A development owner token for branch "${branch}" (30 days; more with \`npm run token -- --help\`):`,
        devToken,
        "",
        `Try it: curl -H "Authorization: Bearer <token>" "http://127.0.0.1:${port}/v1/branches/${branch}/changes?since=0"`,
        "",
        "The desktop, in another terminal:",
        `  npx studiovault --db demo.sqlite init --server http://127.0.0.1:${port} --token ${devToken.slice(0, 12)}…`,
        "  npx studiovault --db demo.sqlite pos sale --item 'Passport photos:2:800' --method cash --tendered 2000",
        "  npx studiovault --db demo.sqlite sync        (or: watch)",
        "  npm run desktop:browser -- --db demo.sqlite  (the app's screens in your browser)",
        "",
        "Not built yet (see the open issues): the Electron window (issue 6), the full benchmark suite (issue 7).",
        "",
      ].join("\n"),
    );
  }
});

for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
