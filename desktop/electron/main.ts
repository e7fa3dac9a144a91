/**
 * Electron's entry point (bundled to dist/main.cjs by launch.ts). Started by `npm run desktop`,
 * which passes the database and the Electron build of better-sqlite3 in the environment:
 *
 *   STUDIOVAULT_DB               the local database (default: studiovault.sqlite in the app's
 *                                user-data folder)
 *   STUDIOVAULT_SQLITE_BINDING   better_sqlite3.node built for this Electron
 *   STUDIOVAULT_OFFLINE=1        start with sync paused
 */
import electron from "electron";
import path from "node:path";
import { startDesktopMain } from "./main-process.js";

// dist/main.cjs → desktop/electron/dist; the renderer is desktop/renderer.
const here = __dirname;
const env = process.env;

void startDesktopMain(electron, {
  dbPath: env.STUDIOVAULT_DB || path.join(electron.app.getPath("userData"), "studiovault.sqlite"),
  rendererDir: path.resolve(here, "../../renderer"),
  preloadPath: path.join(here, "preload.cjs"),
  ...(env.STUDIOVAULT_SQLITE_BINDING ? { nativeBinding: env.STUDIOVAULT_SQLITE_BINDING } : {}),
  offline: env.STUDIOVAULT_OFFLINE === "1",
}).catch((error: unknown) => {
  electron.dialog.showErrorBox("StudioVault failed to start", error instanceof Error ? (error.stack ?? error.message) : String(error));
  electron.app.exit(1);
});
