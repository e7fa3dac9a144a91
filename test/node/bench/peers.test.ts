/**
 * The race's peers (bench/baseline/yjs-room.ts, tinybase-room.ts) mean what bench/race.ts says:
 * when A hears its writes are durable, they are in the room's SQLite. Shown the hard way: A writes,
 * waits for "durable", workerd stops; a new workerd on the same state serves them to a cold device.
 * Also: B, live while A writes, gets them all.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { RaceDevice } from "../../../bench/clients/race/race-device.js";
import { TinyBaseRace } from "../../../bench/clients/race/tinybase.js";
import { YjsRace } from "../../../bench/clients/race/yjs.js";
import { startServer } from "../../support/server.js";

const CONFIG = path.resolve(import.meta.dirname, "../../../bench/wrangler.bench.toml");
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function durableAcrossRestart(make: (origin: string) => RaceDevice, n: number) {
  const dir = mkdtempSync(path.join(tmpdir(), "sv-bench-peers-"));
  dirs.push(dir);
  const first = await startServer(dir, 0, CONFIG);
  const a = make(first.url.origin);
  const b = make(first.url.origin);
  try {
    await b.live();
    await a.live();
    const had = b.has(n);
    const written = await a.write(n, 250);
    expect(written.durable_at).toBeGreaterThanOrEqual(written.first_at);
    await had;
  } finally {
    a.close();
    b.close();
    await first.stop({ keepState: true });
  }
  const second = await startServer(dir, 0, CONFIG);
  const c = make(second.url.origin);
  try {
    await c.join(n); // resolves only when C has all n
  } finally {
    c.close();
    await second.stop({ keepState: true });
  }
}

describe("the race's peers", () => {
  it("Yjs: what the room said it saved is there after a restart", async () => {
    await durableAcrossRestart((origin) => new YjsRace(origin, "peers-test"), 1_000);
  }, 90_000);

  it("TinyBase: what the room said it saved is there after a restart", async () => {
    await durableAcrossRestart((origin) => new TinyBaseRace(origin, "peers-test"), 1_000);
  }, 90_000);
});
