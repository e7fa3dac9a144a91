/** `studiovault sync` (push and pull until drained) and `studiovault watch` (stay live), both over the sync engine. */
import { describeStop, stopCause } from "../../../machines/status-words.js";
import { SyncEngine } from "../../sync/engine.js";
import { parse, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { print } from "../output.js";

const DEFAULT_TIMEOUT_S = 120;
/** How often `sync` reports progress on stderr while it waits. */
const PROGRESS_INTERVAL_MS = 1_000;

const syncFlags = {
  timeout: { type: "string", value: "SECONDS", help: `how long to wait for the queue to drain (default ${DEFAULT_TIMEOUT_S} s)` },
} as const;

export const sync = defineCommand({
  name: "sync",
  flags: syncFlags,
  usage: [{ words: "sync", optional: ["timeout"], help: `push and pull until drained (default ${DEFAULT_TIMEOUT_S} s)` }],
  async run(argv, ctx) {
    const { values } = parse(argv, syncFlags);
    const timeoutS = values.timeout === undefined ? DEFAULT_TIMEOUT_S : Number(values.timeout);
    if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError(`--timeout: received ${JSON.stringify(values.timeout)}, expected seconds > 0`);
    const engine = new SyncEngine({ store: ctx.store, onLog: (l) => ctx.io.err(l) });
    const progress = setInterval(() => {
      const s = ctx.store.summary();
      if (!ctx.json) ctx.io.err(`… ${engine.status().kind}: ${s.pending} pending, cursor ${s.cursor}`);
    }, PROGRESS_INTERVAL_MS);
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
  },
});

function describeChange(c: { seq: number; operation: string; entity_type: string; entity_id: string; user_id: string }): string {
  return `#${c.seq} ${c.user_id} ${c.operation} ${c.entity_type} ${c.entity_id}`;
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
