/**
 * How a command's result reaches the person or script that ran it: words on `out`, or one JSON value
 * with `--json`; and the exit code that goes with it (README: 0 done, 1 refused, 3 unreachable).
 */
import { describeStop } from "../../machines/status-words.js";
import type { Entity } from "../../domain/index.js";
import type { LocalEntity } from "../store/local-store.js";
import type { WriteOutcome } from "../store/writes.js";
import { configOf, type Ctx } from "./context.js";
import type { ServerAnswer } from "./server-api.js";

/** `value` as JSON with --json, else `text()`. */
export const print = (ctx: Ctx, value: unknown, text: () => string) => ctx.io.out(ctx.json ? JSON.stringify(value) : text());

/** A local write's outcome: queued (exit 0) or refused by the rules (exit 1). */
export function wrote(ctx: Ctx, outcome: WriteOutcome, what: string): number {
  if (!outcome.ok) {
    print(ctx, { ok: false, error: outcome.error }, () => `refused: ${outcome.error.message}`);
    return 1;
  }
  const { event, entity } = outcome.value;
  print(ctx, { ok: true, event_id: event.id, entity }, () => `${what} ${event.entity_id} (queued, event ${event.id}; run \`studiovault sync\` to send)`);
  return 0;
}

/** A list of local entities, one line each, flagged when not yet confirmed by the server. */
export function show(ctx: Ctx, items: LocalEntity[], line: (e: Entity) => string): number {
  print(ctx, items, () => (items.length === 0 ? "nothing here" : items.map((i) => `${line(i.entity)}${i.status === "synced" ? "" : ` [${i.status}]`}`).join("\n")));
  return 0;
}

/**
 * Prints why the server did not do it, in words, and returns the exit code: 3 when the server could
 * not be reached (nothing happened; try again when online), 1 when it refused.
 */
export function refused(ctx: Ctx, answer: Exclude<ServerAnswer, { kind: "ok" }>, what: string): number {
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
