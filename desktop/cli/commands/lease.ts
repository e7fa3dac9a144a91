/**
 * `studiovault lease …`: the branch's leases on high-risk field groups (protocol v7,
 * domain/lease-groups.ts) over its HTTP API, as this device: list them, take (or renew) one, give one
 * back, or, as an owner or manager, break another device's. Every argument is checked here with the
 * protocol's own schemas first, so a typo is a usage error (exit 2) and nothing is sent.
 *
 * The CLI is no live connection: a lease it takes lasts its TTL (default 60 s, at most 5 min) unless
 * taken again, and nobody is told "offline" here: an unreachable server is exit 3.
 */
import { formatCount } from "../../../domain/amounts.js";
import { EntityId, LEASE_DEFAULT_TTL_MS, LEASE_GROUPS, LEASE_MAX_TTL_MS, LEASE_MIN_TTL_MS, LeaseGroup } from "../../../domain/index.js";
import { unreachable } from "../../../lib/result.js";
import { type Lease, type LeaseAction, LeaseAnswerBody, LeaseList } from "../../../protocol/index.js";
import { parse, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf, type Ctx } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { fail, print, refused } from "../output.js";
import { serverCall } from "../../sync/server-api.js";

/** The server keeps at most this much of a break's reason (the `lease` message's `reason`). */
const MAX_REASON_CHARS = 500;

/** `POST …/leases`'s answer, for 200 and for a refusal (403, 404, 409): protocol/messages.ts LeaseAnswerBody. */
const LeaseHttpResult = LeaseAnswerBody;
type LeaseHttpResult = LeaseAnswerBody;

const leaseFlags = {
  ttl: { type: "string", value: "SECONDS", help: `take: how long the lease lasts, ${LEASE_MIN_TTL_MS / 1000}-${LEASE_MAX_TTL_MS / 1000} s (default ${LEASE_DEFAULT_TTL_MS / 1000}); take it again to renew` },
  reason: { type: "string", value: "TEXT", help: `break: why (kept in the branch's audit log), at most ${MAX_REASON_CHARS} characters` },
} as const;

const GROUPS = LeaseGroup.options.map((g) => `${g} (${LEASE_GROUPS[g].entity_type})`).join(", ");

export const lease = defineCommand({
  name: "lease",
  flags: leaseFlags,
  usage: [
    { words: "lease list", help: "the leases in force on the branch: who holds which field group of which record, and for how long (owner, manager, viewer)" },
    { words: "lease take ENTITY_ID GROUP", optional: ["ttl"], help: `lease a record's high-risk field group so no other device changes it meanwhile (or renew yours); GROUP: ${GROUPS}` },
    { words: "lease release ENTITY_ID GROUP", help: "give back a lease this device holds" },
    { words: "lease break ENTITY_ID GROUP", optional: ["reason"], help: "end another device's lease (owner, manager; audited)" },
  ],
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (sub === "list") return list(rest, ctx);
    const action = sub === "take" ? "acquire" : sub === "release" || sub === "break" ? sub : null;
    if (action === null) throw new UsageError(`lease: expected list, take, release or break; received ${JSON.stringify(sub ?? "")}`);
    return ask(action, rest, ctx);
  },
});

async function list(argv: string[], ctx: Ctx): Promise<number> {
  const { values } = parse(argv, leaseFlags);
  if (values.ttl !== undefined || values.reason !== undefined) throw new UsageError("lease list: takes no flags (--ttl is for `lease take`, --reason for `lease break`)");
  const cfg = configOf(ctx);
  const answer = await serverCall(cfg, "GET", "leases");
  if (answer.kind !== "ok") return refused(ctx, answer, "read the branch's leases");
  const body = LeaseList.safeParse(answer.body);
  if (!body.success) throw new Error(`the server's leases are not what this app expects: ${body.error.issues[0]?.message ?? "invalid"}`);
  const { leases, server_time_ms } = body.data;
  print(ctx, { ok: true, ...body.data }, () => (leases.length === 0 ? "no leases in force" : leases.map((l) => describeLease(l, server_time_ms, cfg.device_id)).join("\n")));
  return 0;
}

const VERB: Record<LeaseAction, string> = { acquire: "take", release: "release", break: "break" };

async function ask(action: LeaseAction, argv: string[], ctx: Ctx): Promise<number> {
  const verb = VERB[action];
  const { values, positionals } = parse(argv, leaseFlags, 2);
  if (values.ttl !== undefined && action !== "acquire") throw new UsageError(`--ttl is for \`lease take\`; \`lease ${verb}\` takes ${action === "break" ? "--reason" : "no flags"}`);
  if (values.reason !== undefined && action !== "break") throw new UsageError(`--reason is for \`lease break\`; \`lease ${verb}\` takes ${action === "acquire" ? "--ttl" : "no flags"}`);
  const [rawId, rawGroup] = positionals;
  if (rawId === undefined || rawId === "") throw new UsageError(`lease ${verb}: ENTITY_ID missing; expected the id of the invoice, project or POS order (from \`invoice list\`, \`project list\`, \`pos list\`)`);
  if (rawGroup === undefined || rawGroup === "") throw new UsageError(`lease ${verb}: GROUP missing; expected one of ${GROUPS}`);
  const id = EntityId.safeParse(rawId);
  if (!id.success) throw new UsageError(`ENTITY_ID: received ${JSON.stringify(rawId.slice(0, 100))}, expected a record id such as 01936f3c-0000-7000-8000-0000000000a1`);
  const group = LeaseGroup.safeParse(rawGroup);
  if (!group.success) throw new UsageError(`GROUP: received ${JSON.stringify(rawGroup.slice(0, 100))}, expected one of ${GROUPS}`);
  const body: Record<string, unknown> = { action, entity_id: id.data, group: group.data };
  if (values.ttl !== undefined) body.ttl_ms = parseTtlSeconds(values.ttl) * 1000;
  if (values.reason !== undefined) {
    const reason = values.reason.trim();
    if (reason === "") throw new UsageError("--reason: empty; expected why the lease is broken, or leave the flag out");
    if (reason.length > MAX_REASON_CHARS) throw new UsageError(`--reason: ${formatCount(reason.length)} characters, expected at most ${formatCount(MAX_REASON_CHARS)}`);
    body.reason = reason;
  }

  const cfg = configOf(ctx);
  const answer = await serverCall(cfg, "POST", "leases", body);
  if (answer.kind === "unreachable") return refused(ctx, answer, `${verb} leases`);
  // Refused by the lease rules (403, 404, 409): the same body as a grant, with the server's words.
  const result = LeaseHttpResult.safeParse(answer.body);
  if (!result.success) {
    if (answer.kind === "refused") return refused(ctx, answer, `${verb} leases`); // 401, a revoked device, a bad body (400)…
    throw new Error(`the server's answer is not what this app expects: ${result.error.issues[0]?.message ?? "invalid"}`);
  }
  const r = result.data;
  if (r.outcome === "refused") {
    const refusal = r.refusal ?? "refused";
    return fail(ctx.io, ctx.json, EXIT.refused, { error: refusal, message: r.message, refusal, lease: r.lease, status: answer.status }, `refused: ${r.message}`, "out");
  }
  print(ctx, { ok: true, ...r }, () => describeResult(r, cfg.device_id));
  return 0;
}

/** `--ttl 90` → 90, or a usage error naming the bounds. */
function parseTtlSeconds(text: string): number {
  const min = LEASE_MIN_TTL_MS / 1000;
  const max = LEASE_MAX_TTL_MS / 1000;
  const trimmed = text.trim();
  const seconds = /^\d{1,6}$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isInteger(seconds) || seconds < min || seconds > max) {
    throw new UsageError(`--ttl: received ${JSON.stringify(text.slice(0, 100))}, expected whole seconds from ${min} to ${max} (5 minutes), e.g. --ttl 120`);
  }
  return seconds;
}

function describeResult(r: LeaseHttpResult, self: string): string {
  const l = r.lease;
  switch (r.outcome) {
    case "granted":
      return l ? `leased: ${what(l)} to this device for ${seconds(l.expires_at_ms - r.server_time_ms)} (until ${iso(l.expires_at_ms)}); \`lease take\` again to renew` : r.message;
    case "released":
      return l ? `released: ${what(l)}` : r.message;
    case "broken":
      return l ? `broken: ${what(l)}, held by ${l.user_id} on device ${l.device_id}${l.device_id === self ? " (this device)" : ""}` : r.message;
    case "refused":
      return `refused: ${r.message}`;
    default:
      return unreachable(r.outcome, "lease outcome");
  }
}

function describeLease(l: Lease, serverTimeMs: number, self: string): string {
  return [
    `${l.entity_id}  ${l.group} (${LEASE_GROUPS[l.group].label} of the ${l.entity_type.replace("_", " ")})`,
    `held by ${l.user_id} (${l.role}) on device ${l.device_id}${l.device_id === self ? " (this device)" : ""}`,
    `${seconds(l.expires_at_ms - serverTimeMs)} left (until ${iso(l.expires_at_ms)})`,
  ].join(" · ");
}

const what = (l: Lease) => `the ${LEASE_GROUPS[l.group].label} of ${l.entity_type.replace("_", " ")} ${l.entity_id}`;
const iso = (ms: number) => new Date(ms).toISOString();
/** Whole seconds, rounded up: a lease with 300 ms left still has "1 s". */
const seconds = (ms: number) => `${formatCount(Math.max(0, Math.ceil(ms / 1000)))} s`;
