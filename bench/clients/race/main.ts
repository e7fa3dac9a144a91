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
import { serveCommands } from "../../lib/serve.js";
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
await serveCommands<RaceCommand>(async (c) => {
  switch (c.cmd) {
    case "live":
      return { done: await d.live() };
    case "write":
      return d.write(c.n, c.batch);
    case "has":
      return d.has(c.n);
    case "join":
      return d.join(c.n);
    case "exit":
      return {}; // serveCommands closes the device and ends the process
  }
}, () => d.close());
