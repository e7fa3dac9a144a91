/**
 * `npm run desktop:browser -- --db PATH [--port N] [--offline] [--server URL --token TOKEN]`: the
 * desktop app in browser mode. The same core Electron's main process hosts (local store + sync
 * engine) serves the renderer on 127.0.0.1; open the printed URL in any browser. A database not yet
 * bound to a branch is bound with --server and --token (or STUDIOVAULT_TOKEN), or, without them,
 * on the app's setup screen with a manager's sign-in code; the engine then bootstraps it from the
 * branch's latest snapshot. The link's key is kept beside the database
 * (PATH.browser-key, mode 0600), so the printed link stays the same across restarts.
 */
import { mkdirSync } from "node:fs";
import path from "node:path";
import { DesktopCore } from "../desktop/app/core.js";
import { browserKeyFor } from "../desktop/browser/key.js";
import { startBrowserBridge } from "../desktop/browser/server.js";
import { flagHelpLines, flagSynopsis, type FlagTable, parseFlags } from "../desktop/cli/args.js";
import { LocalStore } from "../desktop/store/local-store.js";

const DEFAULT_DB = "studiovault.sqlite";
const DEFAULT_PORT = 5199;

const FLAGS = {
  db: { type: "string", value: "PATH", help: `the local database (default ${DEFAULT_DB})` },
  port: { type: "string", value: "N", help: `the port on 127.0.0.1 to serve the app on (default ${DEFAULT_PORT})` },
  offline: { type: "boolean", help: "start with sync paused" },
  server: { type: "string", value: "URL", help: "the sync server, to bind a new database to a branch (with --token)" },
  token: { type: "string", value: "TOKEN", help: "the device token for it (or STUDIOVAULT_TOKEN; npm run token -- --help)" },
} as const satisfies FlagTable;

/** Generated from FLAGS, so a flag cannot be added without being documented. */
const USAGE = [
  `usage: npm run desktop:browser -- ${flagSynopsis("db", FLAGS.db)} [${flagSynopsis("port", FLAGS.port)}] [--offline] [${flagSynopsis("server", FLAGS.server)} ${flagSynopsis("token", FLAGS.token)}]`,
  "",
  ...flagHelpLines(FLAGS, "  "),
].join("\n");

function fail(status: number, message: string): never {
  console.error(message);
  process.exit(status);
}

// The one parser and error wording of every command line (desktop/cli/args.ts).
const parsed = parseFlags(process.argv.slice(2), FLAGS, { example: `--db ${DEFAULT_DB}` });
if (!parsed.ok) fail(2, `${parsed.error}\n${USAGE}`);
const { values } = parsed.value;
const db = values.db ?? DEFAULT_DB;
const port = values.port === undefined ? DEFAULT_PORT : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(2, `--port: received ${JSON.stringify(values.port)}, expected a TCP port`);

mkdirSync(path.dirname(path.resolve(db)), { recursive: true });
const store = LocalStore.open(db);
if (!store.config()) {
  const token = values.token ?? process.env.STUDIOVAULT_TOKEN;
  if (values.server && token) {
    const bound = store.init({ server_url: values.server, token });
    if (!bound.ok) {
      store.close();
      fail(1, `could not bind ${db}: ${bound.error}`);
    }
    console.log(`bound ${db} to branch ${store.config()!.branch_id} as device ${store.config()!.device_id}`);
  } else {
    // Not set up yet: the app opens on its setup screen (server, branch, a manager's sign-in code).
    console.log(`${db} is not set up yet: open the link below and type the server, the branch and a sign-in code from a manager`);
  }
}
const core = new DesktopCore(store, { online: !values.offline });
let bridge;
try {
  bridge = await startBrowserBridge(core, { port, key: browserKeyFor(db) });
} catch (e) {
  core.stop();
  store.close();
  fail(1, `could not listen on 127.0.0.1:${port} (${(e as Error).message}); choose another with --port`);
}
console.log(`StudioVault desktop (browser mode): ${bridge!.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    await bridge!.close();
    core.stop();
    store.close();
    process.exit(0);
  });
}
