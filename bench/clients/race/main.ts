/**
 * One device of the race (bench/race.ts), in a process of its own so its memory and event loop are
 * its own; driven like bench/clients/device.ts: one JSON command per stdin line (RaceCommand), one
 * JSON reply per command on stdout, each with the longest event-loop stall seen while it ran and
 * the process's peak RSS so far.
 *
 *   tsx bench/clients/race/main.ts bare <server> <branch>
 *   tsx bench/clients/race/main.ts bare-local <server> <branch> <db>
 *   tsx bench/clients/race/main.ts protocol <server> <branch> <device-id> <token>
 *   tsx bench/clients/race/main.ts app <db> <server> <token>
 *   tsx bench/clients/race/main.ts yjs <server> <room>
 *   tsx bench/clients/race/main.ts tinybase <server> <room>
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import readline from "node:readline";
import { AppRace } from "./app.js";
import { BareRace } from "./bare.js";
import { ProtocolRace } from "./protocol.js";
import type { RaceCommand, RaceDevice } from "./race-device.js";
import { TinyBaseRace } from "./tinybase.js";
import { YjsRace } from "./yjs.js";

const KINDS: Record<string, (a: string[]) => RaceDevice> = {
  bare: (a) => new BareRace(a[0]!, a[1]!, null),
  "bare-local": (a) => new BareRace(a[0]!, a[1]!, a[2]!),
  protocol: (a) => new ProtocolRace(a[0]!, a[1]!, a[2]!, a[3]!),
  app: (a) => new AppRace(a[0]!, a[1]!, a[2]!),
  yjs: (a) => new YjsRace(a[0]!, a[1]!),
  tinybase: (a) => new TinyBaseRace(a[0]!, a[1]!),
};

const [kind, ...args] = process.argv.slice(2);
const make = kind === undefined ? undefined : KINDS[kind];
if (!make) throw new Error(`unknown race device ${JSON.stringify(kind)}; see the usage in bench/clients/race/main.ts`);
const d = make(args);
const stall = monitorEventLoopDelay({ resolution: 5 });
stall.enable();
const reply = (value: object): void => {
  process.stdout.write(`${JSON.stringify({ ...value, stall_max_ms: Math.round(stall.max / 1e6), peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
};
reply({ ready: true });
// One command at a time, in order.
let chain = Promise.resolve();
for await (const line of readline.createInterface({ input: process.stdin })) {
  const c = JSON.parse(line) as RaceCommand;
  chain = chain.then(async () => {
    stall.reset();
    switch (c.cmd) {
      case "live":
        return reply({ done: await d.live() });
      case "write":
        return reply(await d.write(c.n, c.batch));
      case "has":
        return reply(await d.has(c.n));
      case "join":
        return reply(await d.join(c.n));
      case "exit":
        d.close();
        reply({ done: true });
        process.exit(0);
    }
  });
}
