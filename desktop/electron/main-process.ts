/**
 * Electron's main process: it hosts the DesktopCore (local store + sync engine) and serves the
 * renderer. Electron is passed in, not imported, so this file runs (and is tested) in plain Node
 * with a stand-in; `main.ts` passes the real module.
 *
 * The renderer never waits on sync: it lives in another process and only calls the DesktopApi over
 * IPC; the engine applies pulls in slices and yields between them, so calls are answered promptly.
 *
 * Security, as Electron's checklist asks: context isolation on, node integration off, the renderer
 * sandboxed, served from our own `studiovault://app/` scheme with a strict CSP, no navigation away,
 * no new windows, no permissions granted, and IPC accepted only from that origin and validated.
 */
import { readFile } from "node:fs/promises";
import type { BrowserWindowConstructorOptions } from "electron";
import { type AppEvent, parseApiRequest } from "../app/api.js";
import { DesktopCore } from "../app/core.js";
import { RENDERER_CSP, rendererAsset } from "../app/renderer-assets.js";
import { LocalStore } from "../store/local-store.js";
import { APP_ORIGIN, APP_SCHEME, APP_URL, CALL_CHANNEL, type CallReply, EVENT_CHANNEL } from "./channels.js";

export interface MainOptions {
  /** The local database; one not bound to a branch yet opens on the setup screen. */
  dbPath: string;
  /** `desktop/renderer`: index.html, app.css and dist/app.js. */
  rendererDir: string;
  /** The bundled preload script (dist/preload.cjs). */
  preloadPath: string;
  /** better-sqlite3 built for this Electron's ABI (see launch.ts); the default addon otherwise. */
  nativeBinding?: string;
  /** Start with sync paused (the user works offline on purpose). */
  offline?: boolean;
}

/** The window, as the main process uses it. */
export interface MainWindow {
  loadURL(url: string): Promise<void>;
  show(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
  isDestroyed(): boolean;
  once(event: "ready-to-show", listener: () => void): unknown;
  on(event: "closed", listener: () => void): unknown;
  webContents: {
    send(channel: string, ...args: unknown[]): void;
    isDestroyed(): boolean;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: "deny" }): void;
    on(event: "will-navigate", listener: (event: { preventDefault(): void }, url: string) => void): unknown;
  };
}

/** The parts of Electron's main-process API this file uses. */
export interface ElectronMain {
  app: {
    whenReady(): Promise<unknown>;
    on(event: "window-all-closed" | "will-quit" | "second-instance" | "activate", listener: () => void): unknown;
    quit(): void;
    exit(code?: number): void;
    requestSingleInstanceLock(): boolean;
  };
  BrowserWindow: new (options: BrowserWindowConstructorOptions) => MainWindow;
  ipcMain: {
    handle(channel: string, listener: (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown): void;
    removeHandler(channel: string): void;
  };
  protocol: {
    registerSchemesAsPrivileged(schemes: Array<{ scheme: string; privileges: { standard: boolean; secure: boolean; supportFetchAPI: boolean } }>): void;
    handle(scheme: string, handler: (request: Request) => Promise<Response>): void;
  };
  session: {
    defaultSession: {
      setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
    };
  };
  dialog: { showErrorBox(title: string, content: string): void };
}

/** What a started main process holds (tests look inside). */
export interface DesktopMain {
  core: DesktopCore;
  store: LocalStore;
  window(): MainWindow | null;
  /** Stops sync and closes the database; idempotent. Runs on will-quit. */
  shutdown(): void;
}

const isAppUrl = (url: string | undefined): boolean => url !== undefined && url.startsWith(`${APP_ORIGIN}/`);

/**
 * Starts the app. Returns null when it must not run: another instance holds the lock (that one is
 * focused instead), or the database cannot be opened (the user is told how to fix it and the app
 * exits with status 1). A database not set up yet opens on the setup screen.
 */
export async function startDesktopMain(electron: ElectronMain, options: MainOptions): Promise<DesktopMain | null> {
  const { app } = electron;
  // Before `ready`, as Electron requires: our scheme is standard and secure, like https.
  electron.protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

  // One app per machine user: two sync engines on one database would push the same queue twice over.
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return null;
  }

  const store = openStore(electron, options);
  if (!store) return null;
  const core = new DesktopCore(store, { online: !options.offline });
  let window: MainWindow | null = null;
  let stopped = false;
  const shutdown = () => {
    if (stopped) return;
    stopped = true;
    electron.ipcMain.removeHandler(CALL_CHANNEL);
    core.stop();
    store.close();
  };

  electron.ipcMain.handle(CALL_CHANNEL, (event, request) => handleCall(core, event.senderFrame?.url, request));
  app.on("second-instance", () => {
    if (!window || window.isDestroyed()) return;
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on("window-all-closed", () => app.quit());
  app.on("will-quit", shutdown);

  await app.whenReady();
  electron.protocol.handle(APP_SCHEME, (request) => serveRenderer(options.rendererDir, request.url));
  electron.session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));

  const open = async () => {
    window = createWindow(electron, core, options.preloadPath);
    await window.loadURL(APP_URL);
  };
  app.on("activate", () => {
    if (!window || window.isDestroyed()) void open();
  });
  await open();
  return { core, store, window: () => window, shutdown };
}

function openStore(electron: ElectronMain, options: MainOptions): LocalStore | null {
  let store: LocalStore;
  try {
    store = LocalStore.open(options.dbPath, options.nativeBinding === undefined ? {} : { nativeBinding: options.nativeBinding });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const abi = /NODE_MODULE_VERSION|was compiled against a different/.test(message);
    electron.dialog.showErrorBox(
      "StudioVault could not open its database",
      `${options.dbPath}\n\n${message}\n\n` +
        (abi
          ? "The SQLite module was built for another version of Node or Electron. Start the app with `npm run desktop`: it builds one for this Electron."
          : "Check that the folder exists and that you may write to it."),
    );
    electron.app.exit(1);
    return null;
  }
  // A database not bound to a branch yet opens too: the window shows the setup screen, where a
  // manager's sign-in code binds it (desktop/app/enrollment.ts). No error box, no command line.
  return store;
}

function createWindow(electron: ElectronMain, core: DesktopCore, preloadPath: string): MainWindow {
  const window = new electron.BrowserWindow({
    width: 1280,
    height: 860,
    minWidth: 900,
    minHeight: 600,
    title: "StudioVault",
    backgroundColor: "#f6f7f9",
    autoHideMenuBar: true,
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.once("ready-to-show", () => window.show());
  window.webContents.setWindowOpenHandler(() => ({ action: "deny" }));
  window.webContents.on("will-navigate", (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });
  const forward = (event: AppEvent) => {
    if (!window.isDestroyed() && !window.webContents.isDestroyed()) window.webContents.send(EVENT_CHANNEL, event);
  };
  const unsubscribe = core.subscribe(forward);
  window.on("closed", unsubscribe);
  return window;
}

/** One DesktopApi call from the renderer: only from our own page, validated, never throwing. */
export async function handleCall(core: DesktopCore, senderUrl: string | undefined, raw: unknown): Promise<CallReply> {
  if (!isAppUrl(senderUrl)) return { ok: false, message: `calls are accepted from the StudioVault window only, not from ${senderUrl ?? "an unknown frame"}` };
  const request = parseApiRequest(raw);
  if (!request.ok) return { ok: false, message: request.error };
  try {
    return { ok: true, value: await core.handle(request.value) };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/** `studiovault://app/<path>`: the renderer's files from the one table browser mode also serves. */
export async function serveRenderer(rendererDir: string, requestUrl: string): Promise<Response> {
  const url = new URL(requestUrl);
  const asset = url.host === "app" ? rendererAsset(rendererDir, url.pathname) : null;
  if (!asset) return new Response(`no such file: ${url.pathname}`, { status: 404, headers: { "content-type": "text/plain; charset=utf-8" } });
  let body: Buffer;
  try {
    body = await readFile(asset.file);
  } catch {
    return new Response(`${asset.file} is missing${asset.missingHint ? `: ${asset.missingHint}` : ""}`, { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
  }
  return new Response(new Uint8Array(body), {
    status: 200,
    headers: { "content-type": asset.contentType, "content-security-policy": RENDERER_CSP, "x-content-type-options": "nosniff", "cache-control": "no-store" },
  });
}
