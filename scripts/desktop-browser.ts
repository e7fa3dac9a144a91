/**
 * `npm run desktop:browser -- --db PATH [--port N] [--offline]`: the desktop app in browser mode.
 * The same core Electron's main process hosts (local store + sync engine) serves the renderer on
 * 127.0.0.1; open the printed URL in any browser. The database must be initialised first
 * (`studiovault --db PATH init --server URL --token TOKEN`).
 */
import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { DesktopCore } from "../desktop/app/core.js";
import { startBrowserBridge } from "../desktop/browser/server.js";
import { LocalStore } from "../desktop/store/local-store.js";

const { values } = parseArgs({ options: { db: { type: "string", default: "studiovault.sqlite" }, port: { type: "string" }, offline: { type: "boolean", default: false } } });
if (!existsSync(values.db!)) {
  console.error(`no local database at ${values.db}: run \`npx studiovault --db ${values.db} init --server URL --token TOKEN\` first`);
  process.exit(1);
}
const port = values.port === undefined ? 5199 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: received ${JSON.stringify(values.port)}, expected a TCP port`);
  process.exit(2);
}
const store = LocalStore.open(values.db!);
if (!store.config()) {
  console.error(`${values.db} is not initialised: run \`npx studiovault --db ${values.db} init --server URL --token TOKEN\``);
  process.exit(1);
}
const core = new DesktopCore(store, { online: !values.offline });
const bridge = await startBrowserBridge(core, { port });
console.log(`StudioVault desktop (browser mode): ${bridge.url}`);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    await bridge.close();
    core.stop();
    store.close();
    process.exit(0);
  });
}
