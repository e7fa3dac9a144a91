/** `studiovault status`: this database's queue, cursor, conflicts, clock and whether the server answers. */
import { clockWarning } from "../../../machines/status-words.js";
import { describeSkew } from "../../../domain/index.js";
import { formatCount } from "../../../domain/amounts.js";
import { parse } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf } from "../context.js";
import { print } from "../output.js";
import { reachable } from "../../sync/server-api.js";

export const status = defineCommand({
  name: "status",
  flags: {},
  usage: [
    {
      words: "status",
      help: "pending events, cursor, conflicts, server reachability, and a warning if this till's clock was off the server's",
    },
  ],
  async run(argv, ctx) {
    parse(argv, {});
    const cfg = configOf(ctx);
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
        `pending ${formatCount(s.pending)}${ageS !== null ? ` (oldest ${formatCount(ageS)} s ago)` : ""} · cursor ${s.cursor} · open conflicts ${formatCount(s.conflicts_open)}`,
        `last confirmed ${s.last_confirmed_at ?? "never"}`,
      ].join("\n"),
    );
    return 0;
  },
});
