/** `studiovault devices` and `studiovault device revoke`: the branch's devices, over its HTTP API (owner, manager). */
import { formatCount } from "../../../domain/amounts.js";
import { clockIsWrong } from "../../../machines/status-words.js";
import { describeSkew } from "../../../domain/index.js";
import { Role, UserId } from "../../../domain/index.js";
import { DEFAULT_CODE_TTL_MINUTES, MAX_CODE_TTL_MINUTES } from "../../../protocol/enrollment.js";
import { type DeviceInfo, DeviceList, RevokeResult } from "../../../protocol/index.js";
import { askForCode } from "../../sync/enrollment.js";
import { EXIT } from "../exit-codes.js";
import { parse, required, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf, type Ctx } from "../context.js";
import { fail, print, refused } from "../output.js";
import { serverCall } from "../../sync/server-api.js";

const DEVICE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
/** The server keeps at most this much of a revocation reason in its audit log. */
const MAX_REASON_CHARS = 500;

export const devices = defineCommand({
  name: "devices",
  flags: {},
  usage: [{ words: "devices", help: "the branch's devices: user, role, app, last seen, install, revoked (owner, manager)" }],
  async run(argv, ctx) {
    parse(argv, {});
    const cfg = configOf(ctx);
    const answer = await serverCall(cfg, "GET", "devices");
    if (answer.kind !== "ok") return refused(ctx, answer, "manage devices");
    const list = DeviceList.safeParse(answer.body);
    if (!list.success) throw new Error(`the server's device list is not what this app expects: ${list.error.issues[0]?.message ?? "invalid"}`);
    const rows = list.data.devices;
    print(ctx, { ok: true, devices: rows }, () => (rows.length === 0 ? "no devices have connected yet" : rows.map((d) => describeDevice(d, cfg.device_id)).join("\n")));
    return 0;
  },
});

function describeDevice(d: DeviceInfo, self: string): string {
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

const deviceFlags = {
  reason: { type: "string", value: "R", help: "why the device is revoked (kept in the branch's audit log)" },
  role: { type: "string", value: "ROLE", help: `the new till's role: ${Role.options.join(", ")} (at most your own)` },
  user: { type: "string", value: "NAME", help: "who will use the new till, e.g. nimal (1-64 letters, digits, . _ @ -)" },
  ttl: { type: "string", value: "15m|2h", help: `how long the code stays valid, default ${DEFAULT_CODE_TTL_MINUTES}m, at most 24h` },
} as const;

export const device = defineCommand({
  name: "device",
  flags: deviceFlags,
  usage: [
    {
      words: "device revoke DEVICE_ID",
      required: ["reason"],
      help: "refuse that device from now on (owner, manager); its unsynced changes stay on it",
    },
    {
      words: "device add",
      required: ["role", "user"],
      optional: ["ttl"],
      help: "a one-time sign-in code for a new till, or for a till to sign in again (owner, manager): `init --server URL --branch B --code CODE` or `signin --code CODE` there",
    },
  ],
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (sub === "add") return addDevice(rest, ctx);
    if (sub !== "revoke") throw new UsageError(`device: expected revoke or add; received ${JSON.stringify(sub ?? "")} (the list is \`studiovault devices\`)`);
    const { values, positionals } = parse(rest, deviceFlags, 1);
    if (values.role !== undefined || values.user !== undefined || values.ttl !== undefined) throw new UsageError("--role, --user and --ttl are for `device add`; `device revoke` takes --reason");
    const id = required(positionals[0], "DEVICE_ID", "the device to revoke (from `studiovault devices`)");
    if (!DEVICE_ID.test(id)) throw new UsageError(`DEVICE_ID: received ${JSON.stringify(id)}, expected a device id such as 01936f3c-0000-7000-8000-0000000000a1 (from \`studiovault devices\`)`);
    const reason = required(values.reason?.trim(), "--reason", "why the device is revoked (kept in the branch's audit log)");
    if (reason.length > MAX_REASON_CHARS) throw new UsageError(`--reason: ${formatCount(reason.length)} characters, expected at most ${formatCount(MAX_REASON_CHARS)}`);
    const answer = await serverCall(configOf(ctx), "POST", `devices/${encodeURIComponent(id)}/revoke`, { reason });
    if (answer.kind !== "ok") return refused(ctx, answer, "manage devices");
    const done = RevokeResult.safeParse(answer.body);
    if (!done.success) throw new Error(`the server's answer is not what this app expects: ${done.error.issues[0]?.message ?? "invalid"}`);
    const r = done.data;
    print(ctx, { ok: true, ...r }, () =>
      r.already ? `device ${r.device_id} was already revoked (at ${r.revoked_at})` : `revoked device ${r.device_id} at ${r.revoked_at}: it can no longer sync; its unsynced changes stay on it`,
    );
    return 0;
  },
});

/** `15`, `15m`, `2h` → minutes, or null unless from 1 minute to MAX_CODE_TTL_MINUTES. */
export function parseCodeTtlMinutes(text: string): number | null {
  const m = /^([1-9]\d{0,4})(m|h)?$/.exec(text.trim());
  if (!m) return null;
  const minutes = Number(m[1]) * (m[2] === "h" ? 60 : 1);
  return minutes <= MAX_CODE_TTL_MINUTES ? minutes : null;
}

async function addDevice(argv: string[], ctx: Ctx): Promise<number> {
  const { values } = parse(argv, deviceFlags);
  if (values.reason !== undefined) throw new UsageError("--reason is for `device revoke`; `device add` takes --role, --user and --ttl");
  const role = Role.safeParse(required(values.role, "--role", `the new till's role: ${Role.options.join(", ")}`));
  if (!role.success) throw new UsageError(`--role: received ${JSON.stringify(values.role)}, expected one of ${Role.options.join(", ")}`);
  const user = UserId.safeParse(required(values.user, "--user", "who will use the new till, e.g. nimal"));
  if (!user.success) throw new UsageError(`--user: received ${JSON.stringify(values.user)}, expected 1-64 letters, digits and . _ @ - (e.g. nimal)`);
  const ttl = values.ttl === undefined ? DEFAULT_CODE_TTL_MINUTES : parseCodeTtlMinutes(values.ttl);
  if (ttl === null) throw new UsageError(`--ttl: received ${JSON.stringify(values.ttl)}, expected minutes or hours from 1m to 24h, e.g. 15m or 2h`);
  const cfg = configOf(ctx);
  const asked = await askForCode(cfg, { role: role.data, user: user.data, ttl_minutes: ttl });
  if (!asked.ok) {
    const e = asked.error;
    const exit = e.kind === "unreachable" ? EXIT.unreachable : EXIT.refused;
    return fail(ctx.io, ctx.json, exit, { error: e.kind, message: e.message, status: e.status }, exit === EXIT.refused ? `refused: ${e.message}` : e.message, "out");
  }
  const c = asked.value;
  print(ctx, { ok: true, ...c, branch: cfg.branch_id, server: cfg.server_url }, () =>
    [
      `sign-in code ${c.code} for ${c.user} (${c.role}), valid once until ${c.expires_at}`,
      `new till:       studiovault init --server ${cfg.server_url} --branch ${cfg.branch_id} --code ${c.code}`,
      `signing again:  studiovault signin --code ${c.code}`,
    ].join("\n"),
  );
  return 0;
}
