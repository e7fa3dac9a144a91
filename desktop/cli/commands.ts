/** The CLI's commands over the local store and the sync engine. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import {
  type Entity,
  type EntityType,
  type InvoiceCreate,
  type MediaItem,
  type PosPaymentMethod,
  ProjectStatus,
} from "../../schema/index.js";
import type { LocalEntity, LocalStore } from "../store/local-store.js";
import type { WriteOutcome } from "../store/writes.js";
import { bootstrap, type BootstrapProgress } from "../sync/bootstrap.js";
import { SyncEngine } from "../sync/engine.js";
import { describeSkew, type DeviceInfo, DeviceList, formatMinor, RevokeResult } from "../../schema/index.js";
import { clockIsWrong, clockWarning, describeStop, stopCause } from "../../machines/status-words.js";
import { isoDate, minorUnits, oneOf, parse, posLine, required, UsageError } from "./args.js";
import { serverCall, type ServerAnswer } from "./server-api.js";
import type { Io } from "./main.js";

export const USAGE = `usage: studiovault [--db PATH] [--json] <command>

  init --server URL --token TOKEN        bind this database to a branch and device, and bootstrap
       [--no-bootstrap]                  from the branch's latest snapshot (with a progress bar)
  status                                 pending events, cursor, conflicts, server reachability, and
                                         a warning if this till's clock was off the server's
  sync [--timeout SECONDS]               push and pull until drained (default 120 s)
  watch                                  stay live and print incoming changes (Ctrl-C stops)
  conflicts [--all]                      the conflict inbox
  conflicts resolve ID dismiss|reapply
  ledger [--day YYYY-MM-DD|today]        POS totals confirmed by the server (days in the branch's time zone)
  snapshot                               ask the server for a fresh branch snapshot (manager)
  devices                                the branch's devices: user, role, app, last seen, install, revoked
                                         (owner, manager)
  device revoke DEVICE_ID --reason R     refuse that device from now on (owner, manager); its
                                         unsynced changes stay on it

  project create --title T --client NAME [--email E] [--phone P] [--status S] [--starts D] [--ends D]
                 [--location L] [--notes N] [--package NAME --price AMOUNT --currency CUR]
  project update ID [same flags as create]
  project delete ID --reason R
  project select ID --folder DIR         Smart Select: pick every file in DIR (by content hash)
  project list [--search TEXT] | project show ID

  pos sale --item DESC:QTY:PRICE [--item …] --method cash|card|e_wallet [--tendered AMOUNT] [--currency LKR]
  pos correct ORDER_ID --item DESC:QTY:PRICE [--item …] --method cash|card|e_wallet --reason R
  pos void ORDER_ID --reason R
  pos list

  invoice create --client NAME --line DESC:QTY:PRICE [--line …] [--currency LKR] [--tax-bp N]
                 [--discount AMOUNT] [--project ID] [--status draft|issued] [--reference REF]
  invoice update ID [--status …] [--notes N] [--discount AMOUNT] [--tax-bp N]
  invoice void ID --reason R
  invoice list

Amounts are in major units with up to two decimals (1500.50).
Exit codes: 0 done, 1 refused (a rule refused a write; sync stopped: token refused, device revoked,
token used by another install, app too old), 2 bad arguments, 3 timed out or server unreachable.`;

interface Ctx {
  store: LocalStore;
  io: Io;
  json: boolean;
  env: NodeJS.ProcessEnv;
}

export async function runCommand(argv: string[], ctx: Ctx): Promise<number> {
  const [command, ...rest] = argv as [string, ...string[]];
  switch (command) {
    case "init":
      return init(rest, ctx);
    case "status":
      return status(rest, ctx);
    case "snapshot":
      return snapshot(rest, ctx);
    case "devices":
      return devices(rest, ctx);
    case "device":
      return device(rest, ctx);
    case "sync":
      return sync(rest, ctx);
    case "watch":
      return watch(rest, ctx);
    case "conflicts":
      return conflicts(rest, ctx);
    case "ledger":
      return ledger(rest, ctx);
    case "project":
      return project(rest, ctx);
    case "pos":
      return pos(rest, ctx);
    case "invoice":
      return invoice(rest, ctx);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; run \`studiovault help\``);
  }
}

const print = (ctx: Ctx, value: unknown, text: () => string) => ctx.io.out(ctx.json ? JSON.stringify(value) : text());

function wrote(ctx: Ctx, outcome: WriteOutcome, what: string): number {
  if (!outcome.ok) {
    print(ctx, { ok: false, error: outcome.error }, () => `refused: ${outcome.error.message}`);
    return 1;
  }
  const { event, entity } = outcome.value;
  print(ctx, { ok: true, event_id: event.id, entity }, () => `${what} ${event.entity_id} (queued, event ${event.id}; run \`studiovault sync\` to send)`);
  return 0;
}

// ───────────────────────────── init, status, sync, watch ─────────────────────────────

async function init(argv: string[], ctx: Ctx): Promise<number> {
  const { values } = parse(argv, { server: { type: "string" }, token: { type: "string" }, "no-bootstrap": { type: "boolean", default: false } });
  const result = ctx.store.init({
    server_url: required(values.server, "--server", "the server URL, e.g. http://127.0.0.1:8787"),
    token: required(values.token ?? ctx.env.STUDIOVAULT_TOKEN, "--token", "a device token (npm run token)"),
  });
  if (!result.ok) throw new UsageError(result.error);
  const c = result.value;
  let snapshot: { seq: number; entities: number } | null = null;
  let bootstrapNote = "skipped (--no-bootstrap)";
  if (!values["no-bootstrap"]) {
    if (!(await reachable(c.server_url))) bootstrapNote = "server unreachable: the first sync bootstraps";
    else {
      try {
        const manifest = await bootstrap(ctx.store, { onProgress: (p) => !ctx.json && ctx.io.err(progressBar(p)) });
        snapshot = manifest && { seq: manifest.seq, entities: manifest.counts.project + manifest.counts.invoice + manifest.counts.pos_order };
        bootstrapNote = manifest ? `from snapshot at seq ${manifest.seq}` : "no snapshot yet: the first sync pulls everything";
      } catch (e) {
        bootstrapNote = `failed, the first sync retries: ${(e as Error).message}`;
      }
    }
  }
  print(ctx, { ok: true, branch: c.branch_id, device: c.device_id, user: c.user_id, role: c.role, server: c.server_url, snapshot, bootstrap: bootstrapNote }, () =>
    `initialised: branch ${c.branch_id}, device ${c.device_id}, ${c.user_id} (${c.role}) at ${c.server_url}\nbootstrap: ${bootstrapNote}`,
  );
  return 0;
}

function progressBar(p: BootstrapProgress): string {
  const width = 30;
  const [done, total, unit] = p.phase === "download" ? [p.bytes, p.total_bytes, "bytes"] : [p.entities, p.total_entities, "entities"];
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `bootstrap ${p.phase.padEnd(8)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} ${unit}`;
}

async function snapshot(argv: string[], ctx: Ctx): Promise<number> {
  parse(argv, {});
  const answer = await serverCall(configOf(ctx), "POST", "snapshots");
  if (answer.kind !== "ok") return refused(ctx, answer, "ask for snapshots");
  const body = answer.body;
  print(ctx, body, () => `snapshot at seq ${body.seq}: ${Number(body.byte_size).toLocaleString("en-US")} bytes, sha256 ${body.sha256}`);
  return 0;
}

function configOf(ctx: Ctx) {
  const cfg = ctx.store.config();
  if (!cfg) throw new UsageError("not initialised: run `studiovault init --server URL --token TOKEN`");
  return cfg;
}

/**
 * Prints why the server did not do it, in words, and returns the exit code: 3 when the server could
 * not be reached (nothing happened; try again when online), 1 when it refused.
 */
function refused(ctx: Ctx, answer: Exclude<ServerAnswer, { kind: "ok" }>, what: string): number {
  const cfg = configOf(ctx);
  if (answer.kind === "unreachable") {
    print(ctx, { ok: false, error: "unreachable", message: answer.message }, () => `server unreachable at ${cfg.server_url}: ${answer.message}; nothing was changed, try again when online`);
    return 3;
  }
  const { status, body } = answer;
  const error = typeof body.error === "string" ? body.error : null;
  const serverMessage = typeof body.message === "string" ? body.message : null;
  let text: string;
  if (status === 403 && error === "device_revoked") text = `${describeStop({ kind: "device_revoked" })}; ask a manager for a token for a new device`;
  else if (status === 403) text = `your role (${cfg.role}) may not ${what}`;
  else if (status === 401) text = `${describeStop({ kind: "token_refused", reason: typeof body.code === "string" ? body.code : "unauthorized" })}; run \`studiovault init\` with a new token`;
  else text = serverMessage ?? error ?? `the server answered HTTP ${status}`;
  print(ctx, { ok: false, status, error: error ?? `http_${status}`, message: text }, () => `refused: ${text}`);
  return 1;
}

// ───────────────────────────── devices (owner, manager) ─────────────────────────────

type DeviceRow = DeviceInfo;
const Revoked = RevokeResult;
const DEVICE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function devices(argv: string[], ctx: Ctx): Promise<number> {
  parse(argv, {});
  const cfg = configOf(ctx);
  const answer = await serverCall(cfg, "GET", "devices");
  if (answer.kind !== "ok") return refused(ctx, answer, "manage devices");
  const list = DeviceList.safeParse(answer.body);
  if (!list.success) throw new Error(`the server's device list is not what this app expects: ${list.error.issues[0]?.message ?? "invalid"}`);
  const rows = list.data.devices;
  print(ctx, { ok: true, devices: rows }, () => (rows.length === 0 ? "no devices have connected yet" : rows.map((d) => describeDevice(d, cfg.device_id)).join("\n")));
  return 0;
}

function describeDevice(d: DeviceRow, self: string): string {
  const who = d.user_id ? `${d.user_id} (${d.role || "unknown role"})` : "never connected";
  const parts = [
    `${d.device_id}  ${who}`,
    d.app ?? "app unknown",
    `last seen ${d.last_seen_at && d.user_id ? d.last_seen_at : "never"}`,
    d.install_id ? "install bound" : "no install bound yet",
  ];
  const skew = d.clock_skew_ms ?? null;
  if (clockIsWrong(skew)) parts.push(`clock ${describeSkew(skew)} the server's`);
  parts.push(d.revoked_at ? `REVOKED ${d.revoked_at}${d.revoked_by ? ` by ${d.revoked_by}` : ""}${d.revoke_reason ? `: ${d.revoke_reason}` : ""}` : "active");
  return `${parts.join(" · ")}${d.device_id === self ? " (this device)" : ""}`;
}

async function device(argv: string[], ctx: Ctx): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== "revoke") throw new UsageError(`device: expected revoke; received ${JSON.stringify(sub ?? "")} (the list is \`studiovault devices\`)`);
  const { values, positionals } = parse(rest, { reason: { type: "string" } }, 1);
  const id = required(positionals[0], "DEVICE_ID", "the device to revoke (from `studiovault devices`)");
  if (!DEVICE_ID.test(id)) throw new UsageError(`DEVICE_ID: received ${JSON.stringify(id)}, expected a device id such as 01936f3c-0000-7000-8000-0000000000a1 (from \`studiovault devices\`)`);
  const reason = required(values.reason?.trim(), "--reason", "why the device is revoked (kept in the branch's audit log)");
  if (reason.length > 500) throw new UsageError(`--reason: ${reason.length} characters, expected at most 500`);
  const answer = await serverCall(configOf(ctx), "POST", `devices/${encodeURIComponent(id)}/revoke`, { reason });
  if (answer.kind !== "ok") return refused(ctx, answer, "manage devices");
  const done = Revoked.safeParse(answer.body);
  if (!done.success) throw new Error(`the server's answer is not what this app expects: ${done.error.issues[0]?.message ?? "invalid"}`);
  const r = done.data;
  print(ctx, { ok: true, ...r }, () =>
    r.already ? `device ${r.device_id} was already revoked (at ${r.revoked_at})` : `revoked device ${r.device_id} at ${r.revoked_at}: it can no longer sync; its unsynced changes stay on it`,
  );
  return 0;
}

async function reachable(serverUrl: string): Promise<boolean> {
  try {
    const response = await fetch(new URL("/health", serverUrl), { signal: AbortSignal.timeout(1_500) });
    return response.ok;
  } catch {
    return false;
  }
}

async function status(argv: string[], ctx: Ctx): Promise<number> {
  parse(argv, {});
  const cfg = ctx.store.config();
  if (!cfg) throw new UsageError("not initialised: run `studiovault init --server URL --token TOKEN`");
  const s = ctx.store.summary();
  const online = await reachable(cfg.server_url);
  const ageS = s.oldest_pending_at ? Math.max(0, Math.round((ctx.store.nowMs() - Date.parse(s.oldest_pending_at)) / 1000)) : null;
  const zone = cfg.time_zone ?? null;
  const skew = ctx.store.clockSkewMs();
  const clockWrong = clockWarning(skew);
  const value = {
    branch: cfg.branch_id,
    device: cfg.device_id,
    role: cfg.role,
    server: cfg.server_url,
    online,
    time_zone: zone,
    today: ctx.store.today(),
    clock_skew_ms: skew,
    clock_warning: clockWrong,
    ...s,
    oldest_pending_age_s: ageS,
    queue: ctx.store.queueCounts(),
  };
  print(ctx, value, () =>
    [
      `branch ${cfg.branch_id} · device ${cfg.device_id} · ${cfg.user_id} (${cfg.role})`,
      `server ${cfg.server_url}: ${online ? "reachable" : "unreachable (working offline)"}`,
      zone ? `business day ${ctx.store.today()} (${zone})` : "business day: the branch's time zone is learned at the first sync",
      clockWrong ? `WARNING: ${clockWrong}` : skew === null ? "clock: compared with the server's at the first sync" : `clock: ${describeSkew(skew)} the server's at the last sync`,
      `pending ${s.pending}${ageS !== null ? ` (oldest ${ageS} s ago)` : ""} · cursor ${s.cursor} · open conflicts ${s.conflicts_open}`,
      `last confirmed ${s.last_confirmed_at ?? "never"}`,
    ].join("\n"),
  );
  return 0;
}

function describeChange(c: { seq: number; operation: string; entity_type: string; entity_id: string; user_id: string }): string {
  return `#${c.seq} ${c.user_id} ${c.operation} ${c.entity_type} ${c.entity_id}`;
}

async function sync(argv: string[], ctx: Ctx): Promise<number> {
  const { values } = parse(argv, { timeout: { type: "string" } });
  const timeoutS = values.timeout === undefined ? 120 : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError(`--timeout: received ${JSON.stringify(values.timeout)}, expected seconds > 0`);
  const engine = new SyncEngine({ store: ctx.store, onLog: (l) => ctx.io.err(l) });
  const progress = setInterval(() => {
    const s = ctx.store.summary();
    if (!ctx.json) ctx.io.err(`… ${engine.status().kind}: ${s.pending} pending, cursor ${s.cursor}`);
  }, 1_000);
  engine.start();
  try {
    await engine.untilDrained(timeoutS * 1000);
    const s = ctx.store.summary();
    print(ctx, { ok: true, ...s }, () => `synced: nothing pending, cursor ${s.cursor}, open conflicts ${s.conflicts_open}`);
    return 0;
  } catch (e) {
    const summary = ctx.store.summary();
    const cause = stopCause(engine.status());
    const message = cause ? stoppedMessage(cause, summary.pending) : (e as Error).message;
    print(ctx, { ok: false, error: message, ...(cause ? { stopped: cause.kind } : {}), ...summary }, () => message);
    return cause ? 1 : message.startsWith("not drained") ? 3 : 1;
  } finally {
    clearInterval(progress);
    engine.stop();
  }
}

/** Why sync stopped for good, and what to do about it from this command line. */
function stoppedMessage(cause: NonNullable<ReturnType<typeof stopCause>>, pending: number): string {
  const kept = pending === 0 ? "" : `; the ${pending === 1 ? "1 change" : `${pending} changes`} not yet sent stay${pending === 1 ? "s" : ""} in this database`;
  const why = `sync stopped: ${describeStop(cause)}`;
  switch (cause.kind) {
    case "device_revoked":
    case "install_conflict":
      // `init` never re-binds a database to another device: the new device starts a new database.
      return `${why}; ask a manager for a token for a new device, then run \`studiovault init\` with it on a new database (--db NEW.sqlite)${kept}`;
    case "token_refused":
      return `${why}; run \`studiovault init\` with a new token${kept}`;
    case "update_required":
      return `${why}; update it${kept}`;
    case "replaced":
      return why;
  }
}

async function watch(argv: string[], ctx: Ctx): Promise<number> {
  parse(argv, {});
  const engine = new SyncEngine({
    store: ctx.store,
    onChanges: (changes) => changes.forEach((c) => print(ctx, c, () => describeChange(c))),
    onLog: (l) => ctx.io.err(l),
  });
  let last = "";
  let stopped: string | null = null;
  let wake = () => {};
  engine.subscribe((s) => {
    if (s.kind !== last && !ctx.json) ctx.io.err(`[${s.kind}]`);
    last = s.kind;
    const cause = stopCause(s);
    if (cause && stopped === null) {
      stopped = stoppedMessage(cause, ctx.store.summary().pending);
      wake();
    }
  });
  engine.start();
  await new Promise<void>((resolve) => {
    wake = resolve;
    if (stopped !== null) resolve();
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  process.off("SIGINT", wake);
  process.off("SIGTERM", wake);
  engine.stop();
  if (stopped === null) return 0;
  const message: string = stopped;
  print(ctx, { ok: false, error: message }, () => message);
  return 1;
}

// ───────────────────────────── conflicts, ledger ─────────────────────────────

function conflicts(argv: string[], ctx: Ctx): number {
  if (argv[0] === "resolve") {
    const { positionals } = parse(argv.slice(1), {}, 2);
    const id = Number(required(positionals[0], "ID", "a conflict id from `studiovault conflicts`"));
    const action = oneOf(positionals[1], ["dismiss", "reapply"] as const, "action");
    const result = ctx.store.resolveConflict(id, action);
    if (!result.ok) {
      print(ctx, { ok: false, error: result.error }, () => `refused: ${result.error}`);
      return 1;
    }
    print(ctx, { ok: true }, () => `conflict ${id}: ${action === "dismiss" ? "dismissed" : "re-applied as a new change"}`);
    return 0;
  }
  const { values } = parse(argv, { all: { type: "boolean", default: false } });
  const list = ctx.store.conflicts({ open: !values.all });
  print(ctx, list, () =>
    list.length === 0
      ? "no conflicts"
      : list
          .map((c) => `${c.id}. ${c.message}${c.needs_manager ? " [needs a manager]" : ""} — ${c.operation} ${c.entity_type} ${c.entity_id} (${c.code})${c.resolved_at ? ` resolved: ${c.resolution}` : ""}`)
          .join("\n"),
  );
  return 0;
}

function ledger(argv: string[], ctx: Ctx): number {
  const { values } = parse(argv, { day: { type: "string" } });
  // "today" is the branch's business day on the store's clock, not the host's calendar (I13).
  const rows = ctx.store.ledger(values.day === "today" ? ctx.store.today() : isoDate(values.day, "--day"));
  print(ctx, rows, () =>
    rows.length === 0
      ? "no confirmed POS orders"
      : rows
          .map((r) => `${r.day} ${r.device_id} ${r.currency}: sales ${r.sales_count} ${formatMinor(r.sales_minor)}, corrections ${r.corrections_count} ${formatMinor(r.corrections_minor)}, voids ${r.voids_count} ${formatMinor(r.voids_minor)}, net ${formatMinor(r.net_minor)}`)
          .join("\n"),
  );
  return 0;
}

// ───────────────────────────── domain commands ─────────────────────────────

function show(ctx: Ctx, items: LocalEntity[], line: (e: Entity) => string): number {
  print(ctx, items, () => (items.length === 0 ? "nothing here" : items.map((i) => `${line(i.entity)}${i.status === "synced" ? "" : ` [${i.status}]`}`).join("\n")));
  return 0;
}

const projectFlags = {
  title: { type: "string" },
  client: { type: "string" },
  email: { type: "string" },
  phone: { type: "string" },
  status: { type: "string" },
  starts: { type: "string" },
  ends: { type: "string" },
  location: { type: "string" },
  notes: { type: "string" },
  package: { type: "string" },
  price: { type: "string" },
  currency: { type: "string" },
  reason: { type: "string" },
  folder: { type: "string" },
  search: { type: "string" },
} as const;

function project(argv: string[], ctx: Ctx): number {
  const [sub, ...rest] = argv;
  const { values: v, positionals } = parse(rest, projectFlags, 1);
  const id = () => required(positionals[0], "ID", "a project id");
  const pkg = () =>
    v.package === undefined
      ? undefined
      : { name: v.package, price: { amount_minor: minorUnits(required(v.price, "--price", "the package price"), "--price"), currency: v.currency ?? "LKR" } };
  switch (sub) {
    case "create":
      return wrote(
        ctx,
        ctx.store.createProject({
          title: required(v.title, "--title", "the project title"),
          client: { name: required(v.client, "--client", "the client's name"), email: v.email ?? null, phone: v.phone ?? null },
          status: oneOf(v.status, ProjectStatus.options, "--status", "inquiry"),
          starts_on: isoDate(v.starts, "--starts"),
          ends_on: isoDate(v.ends, "--ends"),
          location: v.location ?? null,
          package: pkg() ?? null,
          notes: v.notes ?? "",
          media_selection: { items: [] },
        }),
        "created project",
      );
    case "update": {
      const patch = Object.fromEntries(
        Object.entries({
          title: v.title,
          status: v.status === undefined ? undefined : oneOf(v.status, ProjectStatus.options, "--status"),
          starts_on: v.starts === undefined ? undefined : isoDate(v.starts, "--starts"),
          ends_on: v.ends === undefined ? undefined : isoDate(v.ends, "--ends"),
          location: v.location,
          notes: v.notes,
          package: pkg(),
        }).filter(([, value]) => value !== undefined),
      );
      if (Object.keys(patch).length === 0) throw new UsageError("nothing to change: pass at least one of --title, --status, --starts, --ends, --location, --notes, --package");
      return wrote(ctx, ctx.store.updateProject(id(), patch), "updated project");
    }
    case "delete":
      return wrote(ctx, ctx.store.deleteProject(id(), required(v.reason, "--reason", "why it is deleted")), "deleted project");
    case "select":
      return wrote(ctx, ctx.store.setMediaSelection(id(), { items: mediaFromFolder(required(v.folder, "--folder", "a folder of photos")) }), "selected media for project");
    case "list":
      return show(ctx, ctx.store.list("project", { search: v.search }), (e) =>
        e.entity_type === "project" && e.data ? `${e.entity_id}  ${e.data.title} · ${e.data.client.name} · ${e.data.status} · ${e.data.media_selection.items.length} selected` : e.entity_id,
      );
    case "show": {
      const found = ctx.store.get(id());
      if (!found) throw new UsageError(`no project ${positionals[0]} on this device`);
      print(ctx, found, () => JSON.stringify(found, null, 2));
      return 0;
    }
    default:
      throw new UsageError(`project: expected create, update, delete, select, list or show; received ${JSON.stringify(sub ?? "")}`);
  }
}

/** Smart Select from a local folder: every regular file, identified by its SHA-256. */
function mediaFromFolder(dir: string): MediaItem[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new UsageError(`--folder: cannot read ${dir}: ${(e as Error).message}`);
  }
  const items: MediaItem[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const info = statSync(file);
    if (!info.isFile()) continue;
    items.push({ sha256: createHash("sha256").update(readFileSync(file)).digest("hex"), file_name: name, size_bytes: info.size, note: null });
  }
  return items;
}

const posFlags = {
  item: { type: "string", multiple: true },
  method: { type: "string" },
  tendered: { type: "string" },
  currency: { type: "string" },
  reason: { type: "string" },
} as const;
const METHODS: readonly PosPaymentMethod[] = ["cash", "card", "e_wallet"];

function pos(argv: string[], ctx: Ctx): number {
  const [sub, ...rest] = argv;
  const { values: v, positionals } = parse(rest, posFlags, 1);
  const items = () => {
    const list = (v.item ?? []).map((i) => posLine(i));
    if (list.length === 0) throw new UsageError("--item: at least one DESC:QTY:PRICE is needed");
    return list;
  };
  switch (sub) {
    case "sale":
      return wrote(
        ctx,
        ctx.store.posSale({
          currency: v.currency ?? "LKR",
          lines: items(),
          method: oneOf(v.method, METHODS, "--method"),
          tendered_minor: v.tendered === undefined ? null : minorUnits(v.tendered, "--tendered"),
        }),
        "sale",
      );
    case "correct":
      return wrote(
        ctx,
        ctx.store.posCorrection(required(positionals[0], "ORDER_ID", "the order to correct"), {
          lines: items(),
          method: oneOf(v.method, METHODS, "--method"),
          reason: required(v.reason, "--reason", "why it is corrected"),
        }),
        "correction of",
      );
    case "void":
      return wrote(ctx, ctx.store.posVoid(required(positionals[0], "ORDER_ID", "the order to void"), required(v.reason, "--reason", "why it is voided")), "voided");
    case "list":
      return show(ctx, ctx.store.list("pos_order"), (e) =>
        e.entity_type === "pos_order"
          ? `${e.entity_id}  ${e.data.local_receipt_no} ${e.official_receipt_no ? `#${e.official_receipt_no}` : "(no official number yet)"} ${e.data.kind} ${formatMinor(e.data.total_minor, e.data.currency)}${e.void ? " VOID" : ""}`
          : e.entity_id,
      );
    default:
      throw new UsageError(`pos: expected sale, correct, void or list; received ${JSON.stringify(sub ?? "")}`);
  }
}

const invoiceFlags = {
  client: { type: "string" },
  line: { type: "string", multiple: true },
  currency: { type: "string" },
  "tax-bp": { type: "string" },
  discount: { type: "string" },
  project: { type: "string" },
  status: { type: "string" },
  reference: { type: "string" },
  notes: { type: "string" },
  reason: { type: "string" },
} as const;

function invoice(argv: string[], ctx: Ctx): number {
  const [sub, ...rest] = argv;
  const { values: v, positionals } = parse(rest, invoiceFlags, 1);
  const taxBp = () => {
    const raw = v["tax-bp"];
    if (raw === undefined) return undefined;
    if (!/^\d{1,5}$/.test(raw) || Number(raw) > 10_000) throw new UsageError(`--tax-bp: received ${JSON.stringify(raw)}, expected basis points 0-10000 (1500 = 15%)`);
    return Number(raw);
  };
  const status = (fallback?: "draft") => (v.status === undefined && !fallback ? undefined : oneOf(v.status, ["draft", "issued", "paid"] as const, "--status", fallback));
  switch (sub) {
    case "create": {
      const data: InvoiceCreate = {
        reference: v.reference ?? null,
        project_id: (v.project ?? null) as InvoiceCreate["project_id"],
        client_name: required(v.client, "--client", "the client's name"),
        currency: v.currency ?? "LKR",
        lines: (v.line ?? []).map((l) => {
          const p = posLine(l, "--line");
          return { description: p.description, quantity: p.quantity, unit_price_minor: p.unit_price_minor };
        }),
        discount_minor: v.discount === undefined ? 0 : minorUnits(v.discount, "--discount"),
        tax_rate_bp: taxBp() ?? 0,
        payments: [],
        status: status("draft")!,
        issued_on: null,
        due_on: null,
        notes: v.notes ?? "",
      };
      return wrote(ctx, ctx.store.createInvoice(data), "created invoice");
    }
    case "update": {
      const patch = Object.fromEntries(
        Object.entries({ status: status(), notes: v.notes, discount_minor: v.discount === undefined ? undefined : minorUnits(v.discount, "--discount"), tax_rate_bp: taxBp() }).filter(
          ([, value]) => value !== undefined,
        ),
      );
      if (Object.keys(patch).length === 0) throw new UsageError("nothing to change: pass at least one of --status, --notes, --discount, --tax-bp");
      return wrote(ctx, ctx.store.updateInvoice(required(positionals[0], "ID", "an invoice id"), patch), "updated invoice");
    }
    case "void":
      return wrote(ctx, ctx.store.voidInvoice(required(positionals[0], "ID", "an invoice id"), required(v.reason, "--reason", "why it is voided")), "voided invoice");
    case "list":
      return show(ctx, ctx.store.list("invoice" as EntityType), (e) =>
        e.entity_type === "invoice" ? `${e.entity_id}  ${e.data.reference ?? "(no reference)"} · ${e.data.client_name} · ${e.data.status}` : e.entity_id,
      );
    default:
      throw new UsageError(`invoice: expected create, update, void or list; received ${JSON.stringify(sub ?? "")}`);
  }
}
