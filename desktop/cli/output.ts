/**
 * How a command's result reaches the person or script that ran it: words on `out`, or one JSON value
 * with `--json`; and the exit code that goes with it (exit-codes.ts). Under --json every failure is
 * one object on `out`, `{"ok": false, "error": CODE, "message": WORDS, …}`, whatever failed: a bad
 * argument, a refused write, the server.
 */
import { describeStop } from "../../machines/status-words.js";
import type { Entity } from "../../domain/index.js";
import { decodeTokenUnverified } from "../../protocol/token.js";
import type { LocalEntity } from "../store/local-store.js";
import type { WriteOutcome } from "../store/writes.js";
import { configOf, type Ctx, type Io } from "./context.js";
import { EXIT, type ExitCode } from "./exit-codes.js";
import { type Page, pageFooter, pageValue } from "./paging.js";
import type { ServerAnswer } from "../sync/server-api.js";

/** `value` as JSON with --json, else `text()`. */
export const print = (ctx: Ctx, value: unknown, text: () => string) => ctx.io.out(ctx.json ? JSON.stringify(value) : text());

/**
 * What failed: `error` is a code a script can switch on (`usage`, `no_database`, `unreachable`, a
 * reject code, a server error code…), `message` the words a person reads; anything else is detail.
 */
export interface Failure {
  error: string;
  message: string;
  readonly [detail: string]: unknown;
}

/**
 * Reports a failure and returns its exit code. With --json: the failure as one JSON object on `out`.
 * In words: `words` (default the message) on `to`, stderr unless the command's result is the refusal.
 */
export function fail(io: Io, json: boolean, exit: Exclude<ExitCode, 0>, failure: Failure, words: string = failure.message, to: "out" | "err" = "err"): number {
  if (json) io.out(JSON.stringify({ ok: false, ...failure }));
  else io[to](words);
  return exit;
}

/** A local write's outcome: queued (exit 0) or refused by the rules (exit 1). */
export function wrote(ctx: Ctx, outcome: WriteOutcome, what: string): number {
  if (!outcome.ok) {
    const { code, message, detail } = outcome.error;
    return fail(ctx.io, ctx.json, EXIT.refused, { error: code, message, detail }, `refused: ${message}`, "out");
  }
  const { event, entity } = outcome.value;
  print(ctx, { ok: true, event_id: event.id, entity }, () => `${what} ${event.entity_id} (queued, event ${event.id}; run \`studiovault sync\` to send)`);
  return 0;
}

/**
 * One page of local entities, one line each, flagged when not yet confirmed by the server, then how
 * many there are in all. JSON: `{items, total, offset, limit, next_offset}`.
 */
export function showPage(ctx: Ctx, items: LocalEntity[], page: Page, total: number, line: (e: Entity) => string): number {
  print(ctx, { items, ...pageValue(page, items.length, total) }, () => {
    const lines = items.map((i) => `${line(i.entity)}${i.status === "synced" ? "" : ` [${i.status}]`}`);
    return [...(total === 0 ? ["nothing here"] : lines), ...(total === 0 ? [] : [pageFooter(page, items.length, total)])].join("\n");
  });
  return 0;
}

/**
 * Why the server refused this device's token, in words, with what to do: an expired token says
 * when it expired (from the token itself, else from the server's words).
 */
/** What a till whose token is refused does: sign in again as the same device, keeping its queue. */
export const SIGN_IN_AGAIN = "ask a manager for a sign-in code (`studiovault device add`), then run `studiovault signin --code CODE` here: this database, its device and its queue are kept";

export function tokenRefusedWords(token: string, body: Record<string, unknown>): string {
  const code = typeof body.code === "string" ? body.code : "unauthorized";
  if (code === "expired") {
    const claims = decodeTokenUnverified(token);
    const at = claims.ok ? new Date(claims.value.exp * 1000).toISOString() : typeof body.message === "string" ? body.message.replace(/^token expired at /, "") : "an unknown time";
    return `the server refused this token: it expired at ${at}; ${SIGN_IN_AGAIN}`;
  }
  return `${describeStop({ kind: "token_refused", reason: code })}; ${SIGN_IN_AGAIN}`;
}

/**
 * Prints why the server did not do it, in words, and returns the exit code: 3 when the server could
 * not be reached (nothing happened; try again when online), 1 when it refused.
 */
export function refused(ctx: Ctx, answer: Exclude<ServerAnswer, { kind: "ok" }>, what: string): number {
  const cfg = configOf(ctx);
  if (answer.kind === "unreachable") {
    const message = `server unreachable at ${cfg.server_url}: ${answer.message}; nothing was changed, try again when online`;
    return fail(ctx.io, ctx.json, EXIT.unreachable, { error: "unreachable", message }, message, "out");
  }
  const { status, body } = answer;
  const error = typeof body.error === "string" ? body.error : null;
  const serverMessage = typeof body.message === "string" ? body.message : null;
  let text: string;
  let code = error ?? `http_${status}`;
  if (status === 403 && error === "device_revoked") text = `${describeStop({ kind: "device_revoked" })}; ask a manager for a token for a new device`;
  else if (status === 403) text = `your role (${cfg.role}) may not ${what}`;
  else if (status === 401) {
    text = tokenRefusedWords(cfg.token, body);
    code = body.code === "expired" ? "token_expired" : "token_refused";
  } else text = serverMessage ?? error ?? `the server answered HTTP ${status}`;
  return fail(ctx.io, ctx.json, EXIT.refused, { error: code, message: text, status }, `refused: ${text}`, "out");
}
