/**
 * Electron's main process and preload, with Electron stubbed: a stand-in for the few Electron
 * objects they use (app, BrowserWindow, ipcMain, protocol, session, dialog, contextBridge,
 * ipcRenderer) and everything else real: the DesktopCore, a SQLite file, and for the last test the
 * real local server. The stand-in IPC hands calls over the way Electron does (structured clone,
 * the sender frame's URL), so the preload's API talks to the main process's handler end to end.
 */
import * as fs from "node:fs";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { BrowserWindowConstructorOptions } from "electron";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { AppEvent, DesktopApi } from "../../../desktop/app/api.js";
import { RENDERER_CSP } from "../../../desktop/app/renderer-assets.js";
import { APP_URL, CALL_CHANNEL, EVENT_CHANNEL } from "../../../desktop/electron/channels.js";
import { bundle, electronExecutable, electronMissingHelp, parseLaunchArgs } from "../../../desktop/electron/launch.js";
import { type DesktopMain, type ElectronMain, type MainWindow, startDesktopMain } from "../../../desktop/electron/main-process.js";
import { buildCommands, ensureNativeBinding, NativeBuildError, nativeDir } from "../../../desktop/electron/native.js";
import { API_KEY, createPreloadApi, exposeDesktopApi, type PreloadIpc } from "../../../desktop/electron/preload-api.js";
import { newProject } from "../../../desktop/renderer/defaults.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { openStore, tempDbPath } from "../../support/desktop.js";
import { waitUntil } from "../../support/e2e.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const RENDERER = path.join(ROOT, "desktop", "renderer");
const DEVICE = "01936f3c-0000-7000-8000-0000000000e1";

type Listener = (...args: unknown[]) => void;

/** A stand-in for the parts of Electron the main process uses; it records what was asked of it. */
function fakeElectron(opts: { lock?: boolean } = {}) {
  const log = {
    schemes: [] as unknown[],
    protocols: new Map<string, (request: Request) => Promise<Response>>(),
    handlers: new Map<string, (event: { senderFrame: { url: string } | null }, ...args: unknown[]) => unknown>(),
    appEvents: new Map<string, Array<() => void>>(),
    windows: [] as FakeWindow[],
    errors: [] as Array<{ title: string; content: string }>,
    exits: [] as number[],
    quits: 0,
    permission: null as null | ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void),
  };
  class FakeWindow implements MainWindow {
    readonly listeners = new Map<string, Listener[]>();
    readonly loaded: string[] = [];
    readonly sent: Array<{ channel: string; args: unknown[] }> = [];
    shown = false;
    destroyed = false;
    openHandler: ((details: { url: string }) => { action: "deny" }) | null = null;
    navigate: ((event: { preventDefault(): void }, url: string) => void) | null = null;
    constructor(readonly options: BrowserWindowConstructorOptions) {
      log.windows.push(this);
    }
    async loadURL(url: string) {
      this.loaded.push(url);
      for (const l of this.listeners.get("ready-to-show") ?? []) l();
    }
    show() {
      this.shown = true;
    }
    focus() {}
    restore() {}
    isMinimized() {
      return false;
    }
    isDestroyed() {
      return this.destroyed;
    }
    once(event: string, listener: Listener) {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    }
    on(event: string, listener: Listener) {
      this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    }
    close() {
      this.destroyed = true;
      for (const l of this.listeners.get("closed") ?? []) l();
    }
    webContents = {
      send: (channel: string, ...args: unknown[]) => void this.sent.push({ channel, args: structuredClone(args) }),
      isDestroyed: () => this.destroyed,
      setWindowOpenHandler: (handler: (details: { url: string }) => { action: "deny" }) => void (this.openHandler = handler),
      on: (_event: "will-navigate", listener: (event: { preventDefault(): void }, url: string) => void) => void (this.navigate = listener),
    };
  }
  const electron: ElectronMain = {
    app: {
      whenReady: () => Promise.resolve(),
      on: (event, listener) => void log.appEvents.set(event, [...(log.appEvents.get(event) ?? []), listener]),
      quit: () => {
        log.quits++;
        for (const l of log.appEvents.get("will-quit") ?? []) l();
      },
      exit: (code = 0) => void log.exits.push(code),
      requestSingleInstanceLock: () => opts.lock ?? true,
    },
    BrowserWindow: FakeWindow,
    ipcMain: {
      handle: (channel, listener) => void log.handlers.set(channel, listener),
      removeHandler: (channel) => void log.handlers.delete(channel),
    },
    protocol: {
      registerSchemesAsPrivileged: (schemes) => void log.schemes.push(...schemes),
      handle: (scheme, handler) => void log.protocols.set(scheme, handler),
    },
    session: { defaultSession: { setPermissionRequestHandler: (handler) => void (log.permission = handler) } },
    dialog: { showErrorBox: (title, content) => void log.errors.push({ title, content }) },
  };

  /** ipcRenderer for a page loaded from `pageUrl`: invoke reaches the main handler, send reaches `on`. */
  const rendererIpc = (window: FakeWindow, pageUrl = APP_URL): PreloadIpc & { listenerCount(): number } => {
    const listeners = new Set<(event: unknown, ...args: unknown[]) => void>();
    const delivered = window.sent.length;
    let seen = delivered;
    const pump = setInterval(() => {
      for (; seen < window.sent.length; seen++) {
        const m = window.sent[seen]!;
        if (m.channel === EVENT_CHANNEL) for (const l of listeners) l({}, ...m.args);
      }
    }, 5);
    pump.unref();
    return {
      async invoke(channel, ...args) {
        const handler = log.handlers.get(channel);
        if (!handler) throw new Error(`No handler registered for '${channel}'`);
        return structuredClone(await handler({ senderFrame: { url: pageUrl } }, ...structuredClone(args)));
      },
      on: (channel, listener) => void (channel === EVENT_CHANNEL && listeners.add(listener)),
      removeListener: (channel, listener) => void (channel === EVENT_CHANNEL && listeners.delete(listener)),
      listenerCount: () => listeners.size,
    };
  };
  return { electron, log, rendererIpc };
}

const options = (dbPath: string) => ({ dbPath, rendererDir: RENDERER, preloadPath: "/app/preload.cjs", offline: true });

const running: DesktopMain[] = [];
afterEach(() => {
  for (const m of running.splice(0)) m.shutdown();
});

async function boundDb(): Promise<string> {
  const dbPath = tempDbPath("electron");
  const { store } = await openStore({ device: DEVICE, role: "manager", path: dbPath, serverUrl: "http://127.0.0.1:9" });
  store.close();
  return dbPath;
}

describe("Electron main process", () => {
  it("opens one locked-down window on its own scheme: isolated, sandboxed, no Node, no navigation, no popups, no permissions", async () => {
    const { electron, log } = fakeElectron();
    const main = (await startDesktopMain(electron, options(await boundDb())))!;
    running.push(main);

    expect(log.schemes).toEqual([{ scheme: "studiovault", privileges: { standard: true, secure: true, supportFetchAPI: true } }]);
    expect(log.windows).toHaveLength(1);
    const win = log.windows[0]!;
    expect(win.options.webPreferences).toMatchObject({ preload: "/app/preload.cjs", contextIsolation: true, nodeIntegration: false, sandbox: true, webSecurity: true });
    expect(win.loaded).toEqual(["studiovault://app/index.html"]);
    expect(win.shown).toBe(true);

    expect(win.openHandler!({ url: "https://example.com" })).toEqual({ action: "deny" });
    const prevented: string[] = [];
    for (const url of ["https://example.com/", "file:///etc/passwd", "studiovault://app.evil/index.html", "studiovault://app/index.html"]) {
      win.navigate!({ preventDefault: () => prevented.push(url) }, url);
    }
    expect(prevented).toEqual(["https://example.com/", "file:///etc/passwd", "studiovault://app.evil/index.html"]);

    const granted: boolean[] = [];
    for (const permission of ["media", "geolocation", "notifications", "openExternal"]) log.permission!(null, permission, (g) => granted.push(g));
    expect(granted).toEqual([false, false, false, false]);
  });

  it("serves the renderer's files, with the CSP, and nothing else", async () => {
    const { electron, log } = fakeElectron();
    running.push((await startDesktopMain(electron, options(await boundDb())))!);
    const serve = log.protocols.get("studiovault")!;
    const get = (url: string) => serve(new Request(url));

    const html = await get("studiovault://app/index.html");
    expect(html.status).toBe(200);
    expect(html.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(html.headers.get("content-security-policy")).toBe(RENDERER_CSP);
    expect(await html.text()).toBe(readFileSync(path.join(RENDERER, "index.html"), "utf8"));
    expect((await get("studiovault://app/app.css")).headers.get("content-type")).toBe("text/css; charset=utf-8");
    const js = await get("studiovault://app/app.js");
    expect(js.status).toBe(existsSync(path.join(RENDERER, "dist", "app.js")) ? 200 : 500);

    for (const url of ["studiovault://app/../../package.json", "studiovault://app/%2e%2e/%2e%2e/package.json", "studiovault://app/dist/../../../package.json", "studiovault://other/index.html", "studiovault://app/constructor"]) {
      expect((await get(url)).status, url).toBe(404);
    }
  });

  it("answers the preload's calls through IPC, only from its own page, with clear errors", async () => {
    const { electron, log, rendererIpc } = fakeElectron();
    const main = (await startDesktopMain(electron, options(await boundDb())))!;
    running.push(main);
    const api = createPreloadApi(rendererIpc(log.windows[0]!));

    const status = await api.call({ method: "status" });
    expect(status.paused).toBe(true);
    expect(status.identity).toMatchObject({ device_id: DEVICE, role: "manager" });

    const sale = await api.call({ method: "write", action: { kind: "pos_sale", input: { currency: "LKR", lines: [{ sku: "PP-4", description: "Passport photos (4)", quantity: 2, unit_price_minor: 80_000 }], method: "cash", tendered_minor: 200_000 } } });
    expect(sale.ok).toBe(true);
    const orders = await api.call({ method: "list", type: "pos_order" });
    expect(orders).toHaveLength(1);
    expect(main.store.summary().pending).toBe(1);

    // A write a rule refuses is an answer, not an error.
    const refused = await api.call({ method: "write", action: { kind: "pos_sale", input: { currency: "LKR", lines: [], method: "cash", tendered_minor: 0 } } });
    expect(refused.ok).toBe(false);

    // A malformed request is an error naming the field.
    await expect(api.call({ method: "list", type: "invoice", limit: 0 } as never)).rejects.toThrow(/^invalid request at limit: /);
    await expect(api.call({ method: "drop_tables" } as never)).rejects.toThrow(/^invalid request at method: /);

    // Another page (a frame navigated elsewhere) is refused before the request is even parsed.
    const foreign = createPreloadApi(rendererIpc(log.windows[0]!, "https://evil.example/"));
    await expect(foreign.call({ method: "status" })).rejects.toThrow("calls are accepted from the StudioVault window only, not from https://evil.example/");
    expect(main.store.summary().pending).toBe(1);
  });

  it("pushes status and change events to the window; a closed window gets none", async () => {
    const { electron, log, rendererIpc } = fakeElectron();
    const main = (await startDesktopMain(electron, options(await boundDb())))!;
    running.push(main);
    const ipc = rendererIpc(log.windows[0]!);
    const api = createPreloadApi(ipc);
    const events: AppEvent[] = [];
    const unsubscribe = api.subscribe((e) => events.push(e));

    await api.call({ method: "write", action: { kind: "project_create", data: newProject("Perera wedding", "Anusha Perera") } });
    await waitUntil("a changed event and a status with 1 pending reach the renderer", () => events.some((e) => e.type === "changed") && events.some((e) => e.type === "status" && e.status.summary.pending === 1), 5_000);

    unsubscribe();
    expect(ipc.listenerCount()).toBe(0);
    const win = log.windows[0]!;
    win.close();
    const sentBefore = win.sent.length;
    await api.call({ method: "setOnline", online: false });
    expect(win.sent.length).toBe(sentBefore);
  });

  it("on quit: stops sync, closes the database, and takes the IPC handler down", async () => {
    const { electron, log } = fakeElectron();
    const dbPath = await boundDb();
    const main = (await startDesktopMain(electron, options(dbPath)))!;
    for (const l of log.appEvents.get("window-all-closed") ?? []) l();
    expect(log.quits).toBe(1);
    expect(log.handlers.has(CALL_CHANNEL)).toBe(false);
    expect(() => main.store.summary()).toThrow(/database connection is not open/);
    // The database is whole and reopens.
    const again = LocalStore.open(dbPath);
    expect(again.config()?.device_id).toBe(DEVICE);
    again.close();
  });

  it("a second instance quits at once and leaves the database alone", async () => {
    const { electron, log } = fakeElectron({ lock: false });
    expect(await startDesktopMain(electron, options(path.join(mkdtempSync(path.join(tmpdir(), "sv-e-")), "never.sqlite")))).toBeNull();
    expect(log.quits).toBe(1);
    expect(log.windows).toHaveLength(0);
    expect(log.handlers.size).toBe(0);
  });

  it("a database not bound to a branch: opens the window for the setup screen, no error box, no exit (issue 14)", async () => {
    const { electron, log, rendererIpc } = fakeElectron();
    const dbPath = tempDbPath("unbound");
    const main = await startDesktopMain(electron, options(dbPath));
    expect(main).not.toBeNull();
    running.push(main!);
    expect(log.exits).toEqual([]);
    expect(log.errors).toEqual([]);
    expect(log.windows).toHaveLength(1);
    // The renderer asks for the status and, with no identity, shows the setup screen.
    const api = createPreloadApi(rendererIpc(log.windows[0]!));
    const status = await api.call({ method: "status" });
    expect(status.identity).toBeNull();
    // A setup answered over IPC: a code that cannot be one is refused beside its field, nothing bound.
    expect(await api.call({ method: "setup", server: "http://127.0.0.1:9", branch: "colombo-main", code: "k7qf 0m2x" })).toMatchObject({ ok: false, field: "code" });
    expect(main!.store.config()).toBeNull();
  });

  it("a SQLite module built for another ABI: says to launch through npm run desktop, exits 1", async () => {
    const { electron, log } = fakeElectron();
    // A file that is not a loadable addon stands in for a build for another ABI.
    const bogus = path.join(mkdtempSync(path.join(tmpdir(), "sv-e-")), "better_sqlite3.node");
    writeFileSync(bogus, "not an addon");
    expect(await startDesktopMain(electron, { ...options(await boundDb()), nativeBinding: bogus })).toBeNull();
    expect(log.exits).toEqual([1]);
    expect(log.errors[0]!.title).toBe("StudioVault could not open its database");
  });
});

describe("Electron preload", () => {
  it("exposes exactly call and subscribe under window.studiovault, and no Electron object", () => {
    const exposed: Array<[string, unknown]> = [];
    const ipc: PreloadIpc = { invoke: async () => ({ ok: true, value: null }), on: () => undefined, removeListener: () => undefined };
    exposeDesktopApi({ exposeInMainWorld: (key, api) => void exposed.push([key, api]) }, ipc);
    expect(exposed).toHaveLength(1);
    const [key, api] = exposed[0]!;
    expect(key).toBe(API_KEY);
    expect(Object.keys(api as object).sort()).toEqual(["call", "subscribe"]);
    for (const value of Object.values(api as object)) expect(typeof value).toBe("function");
    expect(Object.values(api as object)).not.toContain(ipc);
  });

  it("turns a refused call into an Error with the main process's message", async () => {
    const api: DesktopApi = createPreloadApi({ invoke: async () => ({ ok: false, message: "invalid request at id: Too small" }), on: () => undefined, removeListener: () => undefined });
    await expect(api.call({ method: "get", id: "x" })).rejects.toThrow("invalid request at id: Too small");
  });
});

describe("the Electron main process with the real server", () => {
  let server: LocalServer;
  afterAll(async () => server?.stop());

  it("a sale rung up through the preload is pushed by the main process and comes back with an official number", async () => {
    server = await startServer();
    const dbPath = tempDbPath("electron-live");
    const store = LocalStore.open(dbPath);
    const bound = store.init({ server_url: server.url.origin, token: await tokenFor("electron-live", DEVICE, "manager") });
    expect(bound.ok).toBe(true);
    store.close();

    const { electron, log, rendererIpc } = fakeElectron();
    const main = (await startDesktopMain(electron, { ...options(dbPath), offline: false }))!;
    running.push(main);
    const api = createPreloadApi(rendererIpc(log.windows[0]!));
    const events: AppEvent[] = [];
    api.subscribe((e) => events.push(e));
    await waitUntil("live", () => events.some((e) => e.type === "status" && e.status.sync.kind === "live"), 20_000);

    const sale = await api.call({ method: "write", action: { kind: "pos_sale", input: { currency: "LKR", lines: [{ sku: "A4", description: "Print A4", quantity: 1, unit_price_minor: 45_000 }], method: "card", tendered_minor: null } } });
    expect(sale.ok).toBe(true);
    const id = sale.ok ? sale.value.entity.entity_id : "";
    await waitUntil("the sale is confirmed", () => main.store.summary().pending === 0 && main.store.cursor() === 1, 20_000);
    const order = await api.call({ method: "get", id });
    expect(order?.status).toBe("synced");
    expect(order?.official_receipt_no).toBe(1);
  }, 60_000);
});

describe("npm run desktop (the launcher)", () => {
  it("parses its arguments and refuses bad ones in one clear line", () => {
    const ok = parseLaunchArgs(["--db", "x.sqlite", "--server", "http://127.0.0.1:8787", "--token", "t", "--offline"]);
    expect(ok.ok && ok.value).toMatchObject({ db: path.resolve("x.sqlite"), server: "http://127.0.0.1:8787", token: "t", offline: true, prepare: false });
    const defaults = parseLaunchArgs([]);
    expect(defaults.ok && defaults.value.db).toBe(path.join(ROOT, ".data", "desktop.sqlite"));
    const lone = parseLaunchArgs(["--server", "http://127.0.0.1:8787"]);
    expect(!lone.ok && lone.error).toMatch(/^--server and --token go together/);
    const url = parseLaunchArgs(["--server", "localhost", "--token", "t"]);
    expect(!url.ok && url.error).toBe('--server: received "localhost", expected a URL like http://127.0.0.1:8787');
    const unknown = parseLaunchArgs(["--fast"]);
    // The wording of every command line of the product (desktop/cli/args.ts), then the usage.
    expect(!unknown.ok && unknown.error.split("\n")[0]).toBe("unknown flag --fast: expected one of --db, --server, --token, --offline, --prepare, --help");
    expect(!unknown.ok && unknown.error).toContain("usage: npm run desktop -- [--db PATH] [--server URL --token TOKEN] [--offline] [--prepare]");
    const stray = parseLaunchArgs(["x.sqlite"]);
    expect(!stray.ok && stray.error.split("\n")[0]).toBe('unexpected argument "x.sqlite": every value follows its flag, e.g. --db .data/desktop.sqlite');
  });

  it("finds Electron's executable only when it is really there, and says what to do when it is not", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sv-electron-pkg-"));
    expect(electronExecutable(dir, {})).toBeNull();
    fs.writeFileSync(path.join(dir, "path.txt"), "electron");
    expect(electronExecutable(dir, {})).toBeNull(); // path.txt but no binary: a half-finished download
    fs.mkdirSync(path.join(dir, "dist"));
    fs.writeFileSync(path.join(dir, "dist", "electron"), "");
    expect(electronExecutable(dir, {})).toBe(path.join(dir, "dist", "electron"));
    expect(electronExecutable(dir, { ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, "nowhere") })).toBeNull();
    expect(electronExecutable(dir, { ELECTRON_OVERRIDE_DIST_PATH: path.join(dir, "dist") })).toBe(path.join(dir, "dist", "electron"));

    const help = electronMissingHelp("45.4.1", "/d/desktop.sqlite");
    expect(help).toContain("ELECTRON_MIRROR=");
    expect(help).toContain("ELECTRON_OVERRIDE_DIST_PATH=");
    expect(help).toContain('npm run desktop:browser -- --db "/d/desktop.sqlite"');
  });

  it("builds better-sqlite3 for Electron in its own folder: prebuilt first, then compiled; never touches the Node build", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "sv-native-"));
    const source = path.join(ROOT, "node_modules", "better-sqlite3");
    const nodeBuild = path.join(source, "build", "Release", "better_sqlite3.node");
    const nodeBuildBefore = readFileSync(nodeBuild);
    const target = { runtime: "electron" as const, version: "45.4.1", platform: "linux" as const, arch: "x64" };
    const gyp = path.join(root, "node-gyp.js");
    writeFileSync(gyp, "");

    const commands = buildCommands(source, target, gyp);
    expect(commands.map((c) => c.args.slice(1))).toEqual([
      ["--runtime", "electron", "--target", "45.4.1", "--platform", "linux", "--arch", "x64", "--verbose"],
      ["rebuild", "--release", "--runtime=electron", "--target=45.4.1", "--arch=x64", "--dist-url=https://electronjs.org/headers"],
    ]);

    // The prebuilt download fails (offline), the compile succeeds: the stand-in writes the addon.
    const ran: Array<{ args: string[]; cwd: string; env: NodeJS.ProcessEnv }> = [];
    const built = await ensureNativeBinding({
      root,
      sourcePackage: source,
      target,
      env: { PATH: process.env.PATH, npm_config_node_gyp: gyp, npm_config_nodedir: "/usr", npm_config_target: "20.0.0" },
      run: async (_command, args, { cwd, env }) => {
        ran.push({ args, cwd, env });
        expect(fs.existsSync(path.join(cwd, "build"))).toBe(false); // the Node build was not copied
        expect(fs.existsSync(path.join(cwd, "binding.gyp"))).toBe(true);
        if (ran.length === 1) return 1;
        fs.mkdirSync(path.join(cwd, "build", "Release"), { recursive: true });
        fs.writeFileSync(path.join(cwd, "build", "Release", "better_sqlite3.node"), "electron build");
        return 0;
      },
    });
    expect(built).toEqual({ binding: path.join(nativeDir(root, target), "build", "Release", "better_sqlite3.node"), how: "compiled" });
    expect(ran).toHaveLength(2);
    expect(ran[1]!.env.npm_config_nodedir).toBeUndefined(); // Node's headers must not leak into an Electron build
    expect(ran[1]!.env.npm_config_target).toBeUndefined();
    expect(fs.readFileSync(built.binding, "utf8")).toBe("electron build");
    expect(readFileSync(nodeBuild).equals(nodeBuildBefore)).toBe(true);

    // Second launch: already there, nothing runs.
    const again = await ensureNativeBinding({ root, sourcePackage: source, target, env: {}, run: async () => expect.unreachable() as never });
    expect(again.how).toBe("present");

    // Both ways failing: one error that says what is needed, and no half-built folder left behind.
    const other = { ...target, version: "44.0.0" };
    await expect(ensureNativeBinding({ root, sourcePackage: source, target: other, env: { npm_config_node_gyp: gyp }, run: async () => 1 })).rejects.toThrow(NativeBuildError);
    await expect(ensureNativeBinding({ root, sourcePackage: source, target: other, env: {}, run: async () => 1 })).rejects.toThrow(/C\+\+ toolchain.*\n.*run this through npm/s);
    expect(fs.existsSync(nativeDir(root, other))).toBe(false);
    expect(fs.existsSync(`${nativeDir(root, other)}.partial`)).toBe(false);
  }, 60_000);
});

describe("the bundled Electron entry point (desktop/electron/dist/main.cjs)", () => {
  it("starts from its bundle, finds its preload and the renderer, serves the page and answers a call", async () => {
    const { main, preload } = await bundle();
    expect(existsSync(preload)).toBe(true);
    const dbPath = await boundDb();

    // Electron itself is the one part stood in for: `require("electron")` resolves to this stub,
    // which reports what the app asks of it as JSON lines, then drives one page load and one call.
    const dir = mkdtempSync(path.join(tmpdir(), "sv-electron-stub-"));
    writeFileSync(
      path.join(dir, "electron.cjs"),
      `const report = (o) => process.stdout.write(JSON.stringify(o) + "\\n");
const handlers = {};
let serve = null;
class BrowserWindow {
  constructor(options) {
    report({ webPreferences: options.webPreferences });
    this.webContents = { send() {}, isDestroyed: () => false, setWindowOpenHandler() {}, on() {} };
  }
  once() {} on() {} show() {} focus() {} restore() {} isMinimized() { return false; } isDestroyed() { return false; }
  async loadURL(url) {
    report({ loadURL: url });
    const page = await serve(new Request(url));
    report({ page: page.status, type: page.headers.get("content-type"), csp: page.headers.get("content-security-policy") !== null });
    const script = await serve(new Request("studiovault://app/app.css"));
    report({ css: script.status });
    const reply = await handlers["studiovault:call"]({ senderFrame: { url } }, { method: "status" });
    report({ call: reply.ok, device: reply.ok ? reply.value.identity.device_id : reply.message, paused: reply.ok && reply.value.paused });
    process.exit(0);
  }
}
module.exports = {
  app: { whenReady: () => Promise.resolve(), on() {}, quit() { process.exit(0); }, exit(code) { process.exit(code); }, requestSingleInstanceLock: () => true, getPath: () => ${JSON.stringify(dir)} },
  BrowserWindow,
  ipcMain: { handle(channel, listener) { handlers[channel] = listener; }, removeHandler() {} },
  protocol: { registerSchemesAsPrivileged(s) { report({ schemes: s.map((x) => x.scheme) }); }, handle(scheme, handler) { serve = handler; } },
  session: { defaultSession: { setPermissionRequestHandler() {} } },
  dialog: { showErrorBox(title, content) { report({ error: title, content }); } },
};
`,
    );
    writeFileSync(
      path.join(dir, "hook.cjs"),
      `const Module = require("node:module");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === "electron" ? ${JSON.stringify(path.join(dir, "electron.cjs"))} : resolve.call(this, request, ...rest);
};
`,
    );
    const { spawnSync } = await import("node:child_process");
    const run = spawnSync(process.execPath, ["--require", path.join(dir, "hook.cjs"), main], {
      env: { ...process.env, STUDIOVAULT_DB: dbPath, STUDIOVAULT_OFFLINE: "1" },
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toEqual([
      { schemes: ["studiovault"] },
      { webPreferences: { preload, contextIsolation: true, nodeIntegration: false, sandbox: true, webSecurity: true, spellcheck: false } },
      { loadURL: "studiovault://app/index.html" },
      { page: 200, type: "text/html; charset=utf-8", csp: true },
      { css: 200 },
      { call: true, device: DEVICE, paused: true },
    ]);
  }, 60_000);
});
