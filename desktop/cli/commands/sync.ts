/** `studiovault sync` (push and pull until drained) and `studiovault watch` (stay live), both over the sync engine. */
import { describeStop, statusWords, stopCause } from "../../../machines/status-words.js";
import { SyncEngine } from "../../sync/engine.js";
import { formatCount, plural } from "../../../domain/amounts.js";
import { parse, wholeNumber } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { fail, print, SIGN_IN_AGAIN, tokenRefusedWords } from "../output.js";
import { countsSince, describeProgress } from "./sync-progress.js";

const DEFAULT_TIMEOUT_S = 120;
/** A day: longer is a mistake, and setTimeout cannot wait past 2^31 ms (about 24.8 days). */
const MAX_TIMEOUT_S = 86_400;
/** How often `sync` redraws its progress line (only on a terminal). */
const PROGRESS_INTERVAL_MS = 250;

const syncFlags = {
  timeout: { type: "string", value: "SECONDS", help: `how long to wait for the queue to drain (default ${DEFAULT_TIMEOUT_S} s)` },
} as const;

export const sync = defineCommand({
  name: "sync",
  flags: syncFlags,
  usage: [
    {
      words: "sync",
      optional: ["timeout"],
      help: `push and pull until drained (default ${DEFAULT_TIMEOUT_S} s), with counts and a rate on a terminal; exit 4 if the server rejected any change`,
    },
  ],
  async run(argv, ctx) {
    const { values } = parse(argv, syncFlags);
    const timeoutS = values.timeout === undefined ? DEFAULT_TIMEOUT_S : wholeNumber(values.timeout, "--timeout", "seconds from 1", { min: 1, max: MAX_TIMEOUT_S });
    const started = ctx.store.queueCounts();
    const startedMs = Date.now();
    let pulled = 0;
    const counts = () => countsSince(started, ctx.store.queueCounts(), pulled);
    const engine = new SyncEngine({ store: ctx.store, onLog: (l) => ctx.io.err(l), onChanges: (changes) => void (pulled += changes.length) });
    const progress = ctx.io.progress;
    const draw = (final = false) => progress?.(describeProgress(engine.status().kind, counts(), Date.now() - startedMs), final);
    const timer = progress ? setInterval(draw, PROGRESS_INTERVAL_MS) : undefined;
    engine.start();
    try {
      await engine.untilDrained(timeoutS * 1000);
      clearInterval(timer);
      draw(true);
      const s = ctx.store.summary();
      const c = counts();
      if (c.rejected > 0) {
        const message = `synced, but ${plural(c.rejected, "change was", "changes were")} rejected (by the server, or unreadable here): see \`studiovault conflicts\` and \`studiovault queue --status rejected\``;
        return fail(ctx.io, ctx.json, EXIT.rejected, { error: "rejected", message, ...s, ...c }, `synced: nothing pending, cursor ${s.cursor}, open conflicts ${formatCount(s.conflicts_open)}\n${message}`, "out");
      }
      print(ctx, { ok: true, ...s, ...c }, () => `synced: nothing pending, cursor ${s.cursor}, open conflicts ${formatCount(s.conflicts_open)}`);
      return EXIT.done;
    } catch (e) {
      clearInterval(timer);
      draw(true);
      const summary = ctx.store.summary();
      const cause = stopCause(engine.status());
      const detail = { ...summary, ...counts() };
      if (cause) {
        const message = stoppedMessage(cause, summary.pending, configOf(ctx).token);
        return fail(ctx.io, ctx.json, EXIT.refused, { error: cause.kind, message, stopped: cause.kind, ...detail }, message, "out");
      }
      const message = (e as Error).message;
      // Not drained in time: offline, or the server too slow. Nothing is lost; the queue keeps it.
      if (message.startsWith("not drained")) return fail(ctx.io, ctx.json, EXIT.unreachable, { error: "timeout", message, ...detail }, message, "out");
      return fail(ctx.io, ctx.json, EXIT.refused, { error: "internal", message, ...detail }, message, "out");
    } finally {
      clearInterval(timer);
      engine.stop();
    }
  },
});

export const watch = defineCommand({
  name: "watch",
  flags: {},
  usage: [{ words: "watch", help: "stay live and print incoming changes (Ctrl-C stops)" }],
  async run(argv, ctx) {
    parse(argv, {});
    const engine = new SyncEngine({
      store: ctx.store,
      onChanges: (changes) => changes.forEach((c) => print(ctx, c, () => describeChange(c))),
      onLog: (l) => ctx.io.err(l),
    });
    let last = "";
    let stopped: string | null = null;
    let stoppedKind: string | null = null;
    let wake = () => {};
    engine.subscribe((s) => {
      // One line per change of state, in the app's words ("Server unreachable — retrying in 12 s").
      const words = statusWords(s, { nowMs: ctx.store.nowMs(), pending: ctx.store.summary().pending }).headline;
      if (words !== last && !ctx.json) ctx.io.err(words);
      last = words;
      const cause = stopCause(s);
      if (cause && stopped === null) {
        stoppedKind = cause.kind;
        stopped = stoppedMessage(cause, ctx.store.summary().pending, configOf(ctx).token);
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
    if (stopped === null) return EXIT.done;
    const message: string = stopped;
    return fail(ctx.io, ctx.json, EXIT.refused, { error: stoppedKind ?? "stopped", message }, message, "out");
  },
});

function describeChange(c: { seq: number; operation: string; entity_type: string; entity_id: string; user_id: string }): string {
  return `#${c.seq} ${c.user_id} ${c.operation} ${c.entity_type} ${c.entity_id}`;
}

/** Why sync stopped for good, and what to do about it from this command line. */
function stoppedMessage(cause: NonNullable<ReturnType<typeof stopCause>>, pending: number, token: string): string {
  const kept = pending === 0 ? "" : `; the ${plural(pending, "change")} not yet sent stay${pending === 1 ? "s" : ""} in this database`;
  const why = `sync stopped: ${describeStop(cause)}`;
  switch (cause.kind) {
    case "device_revoked":
    case "install_conflict":
      // `init` never re-binds a database to another device: the new device starts a new database.
      return `${why}; ask a manager for a token for a new device, then run \`studiovault init\` with it on a new database (--db NEW.sqlite)${kept}`;
    case "token_refused":
      if (cause.reason === "token_expired" || cause.reason === "expired") return `sync stopped: ${tokenRefusedWords(token, { code: "expired" })}${kept}`;
      return `${why}; ${SIGN_IN_AGAIN}${kept}`;
    case "update_required":
      return `${why}; update it${kept}`;
    case "replaced":
      return why;
  }
}
