/** `studiovault init`: binds a database to a branch and device, then bootstraps from a snapshot. */
import { decodeTokenUnverified } from "../../../protocol/token.js";
import { bootstrap, type BootstrapProgress } from "../../sync/bootstrap.js";
import { parse, required, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { fail, print, tokenRefusedWords } from "../output.js";
import { reachable, serverCall } from "../../sync/server-api.js";
import type { Ctx } from "../context.js";
import { type EnrollFailure, exchangeCode } from "../../sync/enrollment.js";

const flags = {
  server: { type: "string", value: "URL", help: "the branch server, e.g. http://127.0.0.1:8787" },
  token: { type: "string", value: "TOKEN", help: "a device token (npm run token); default $STUDIOVAULT_TOKEN" },
  branch: { type: "string", value: "BRANCH", help: "the branch a sign-in code is for, e.g. colombo-main (with --code)" },
  code: { type: "string", value: "CODE", help: "a one-time sign-in code from a manager (`studiovault device add`), e.g. K7QF-9M2X" },
  "no-bootstrap": { type: "boolean", default: false, help: "skip the snapshot: the first sync pulls everything" },
} as const;

export const init = defineCommand({
  name: "init",
  flags,
  usage: [
    {
      words: "init",
      required: ["server", "token"],
      optional: ["no-bootstrap"],
      help: "bind this database to a branch and device, and bootstrap from the branch's latest snapshot (with a progress bar); exit 1 if the token or the bootstrap is refused, 3 if the server is unreachable",
    },
    {
      words: "init",
      required: ["server", "branch", "code"],
      optional: ["no-bootstrap"],
      help: "set up a new till with a manager's one-time sign-in code: exchange it for a token for a new device, bind, bootstrap; exit 1 if the code is wrong, used or expired (nothing is bound), 3 if the server is unreachable",
    },
  ],
  async run(argv, ctx) {
    const { values } = parse(argv, flags);
    const serverUrl = required(values.server, "--server", "the server URL, e.g. http://127.0.0.1:8787");
    let token: string;
    if (values.code !== undefined) {
      const exchanged = await tokenFromCode(ctx, serverUrl, values.branch, values.code, values.token);
      if (!exchanged.ok) return exchanged.exit;
      token = exchanged.token;
    } else {
      token = required(values.token ?? ctx.env.STUDIOVAULT_TOKEN, "--token", "a device token (npm run token), or --branch B --code CODE");
    }
    // A token already past its expiry is refused by every server: say so before binding anything.
    const claims = decodeTokenUnverified(token);
    if (claims.ok && claims.value.exp * 1000 <= ctx.store.nowMs()) {
      const expiredAt = new Date(claims.value.exp * 1000).toISOString();
      const message = `this token expired at ${expiredAt}, so the server would refuse it; ask a manager for a new one (nothing was changed)`;
      return fail(ctx.io, ctx.json, EXIT.refused, { error: "token_expired", message, expired_at: expiredAt }, `refused: ${message}`, "out");
    }
    const result = ctx.store.init({ server_url: serverUrl, token });
    if (!result.ok) throw new UsageError(result.error);
    const c = result.value;
    const bound = { branch: c.branch_id, device: c.device_id, user: c.user_id, role: c.role, server: c.server_url };
    const boundWords = `initialised: branch ${c.branch_id}, device ${c.device_id}, ${c.user_id} (${c.role}) at ${c.server_url}`;
    const done = (snapshot: { seq: number; entities: number } | null, note: string) => {
      print(ctx, { ok: true, ...bound, snapshot, bootstrap: note }, () => `${boundWords}\nbootstrap: ${note}`);
      return EXIT.done;
    };
    // The database is bound from here on: a failure below leaves it usable offline, and says so.
    const failed = (exit: typeof EXIT.refused | typeof EXIT.unreachable, error: string, message: string) =>
      fail(ctx.io, ctx.json, exit, { error, message, bound: true, ...bound }, `${boundWords}\n${exit === EXIT.unreachable ? "" : "refused: "}${message}`, "out");

    if (values["no-bootstrap"]) return done(null, "skipped (--no-bootstrap)");
    if (!(await reachable(c.server_url))) {
      return failed(EXIT.unreachable, "unreachable", `server unreachable at ${c.server_url}: nothing was downloaded; the database is bound, work offline, and the first sync bootstraps`);
    }
    // Ask for the manifest ourselves first: a refused token or role is an answer to word, not an
    // exception from the bootstrap's download (which reports only "HTTP 401 {…}").
    const manifest = await serverCall(c, "GET", "snapshots/latest");
    if (manifest.kind === "unreachable") return failed(EXIT.unreachable, "unreachable", `server unreachable at ${c.server_url}: ${manifest.message}; the first sync bootstraps`);
    if (manifest.kind === "refused" && manifest.status === 401) {
      return failed(EXIT.refused, manifest.body.code === "expired" ? "token_expired" : "token_refused", tokenRefusedWords(c.token, manifest.body));
    }
    if (manifest.kind === "refused" && manifest.status !== 404) {
      const why = typeof manifest.body.message === "string" ? manifest.body.message : typeof manifest.body.error === "string" ? manifest.body.error : `HTTP ${manifest.status}`;
      return failed(EXIT.refused, "bootstrap_refused", `the server refused the snapshot: ${why}`);
    }
    try {
      const used = await bootstrap(ctx.store, { onProgress: (p) => ctx.io.progress?.(progressBar(p), p.phase === "done") });
      if (!used) return done(null, "no snapshot yet: the first sync pulls everything");
      // `used` is the chain's last link (an increment counts only what changed): count what the store now holds.
      const held = ctx.store.count("project") + ctx.store.count("invoice") + ctx.store.count("pos_order");
      return done({ seq: used.seq, entities: held }, `from snapshot at seq ${used.seq}`);
    } catch (e) {
      return failed(EXIT.refused, "bootstrap_failed", `the bootstrap failed, the first sync retries it: ${(e as Error).message}`);
    }
  },
});

/**
 * `init --code`: the code is exchanged for a token for a new device before anything is bound, so a
 * wrong, used or expired code leaves the database as it was. A database bound already is refused
 * first: exchanging would spend the code on a device this database cannot become.
 */
async function tokenFromCode(ctx: Ctx, serverUrl: string, branch: string | undefined, code: string, token: string | undefined): Promise<{ ok: true; token: string } | { ok: false; exit: number }> {
  if (token !== undefined) throw new UsageError("--code and --token: give one of them (a sign-in code, or a device token)");
  const bound = ctx.store.config();
  if (bound) {
    throw new UsageError(`this database is bound already (branch ${bound.branch_id}, device ${bound.device_id}); to sign it in again run \`studiovault signin --code CODE\``);
  }
  const b = required(branch, "--branch", "the branch the code is for, e.g. colombo-main");
  const exchanged = await exchangeCode({ serverUrl, branch: b, code });
  if (exchanged.ok) return { ok: true, token: exchanged.value.token };
  return { ok: false, exit: enrollFailed(ctx, exchanged.error) };
}

/** A code that gave no token: exit 3 when the server was unreachable, 2 when the code cannot be one, 1 when the server said no; nothing was bound. */
export function enrollFailed(ctx: Ctx, failure: EnrollFailure): number {
  const exit = failure.kind === "unreachable" ? EXIT.unreachable : failure.kind === "malformed" || failure.kind === "bad_server_url" ? EXIT.usage : EXIT.refused;
  const error = failure.kind === "unreachable" ? "unreachable" : `code_${failure.kind}`;
  const words = `${failure.message}${failure.detail ? ` (${failure.detail})` : ""}`;
  return fail(ctx.io, ctx.json, exit, { error, message: failure.message, detail: failure.detail }, exit === EXIT.refused ? `refused: ${words}` : words, "out");
}

function progressBar(p: BootstrapProgress): string {
  const width = 30;
  const [done, total, unit] = p.phase === "download" ? [p.bytes, p.total_bytes, "bytes"] : [p.entities, p.total_entities, "entities"];
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : width;
  return `bootstrap ${p.phase.padEnd(8)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} ${unit}`;
}
