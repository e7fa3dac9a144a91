/**
 * Catching up asks for page k+1 as soon as page k arrives, before applying it, so the server and
 * the device work at the same time (docs/benchmarks.md). Against the real server: every page is
 * asked for once, the device ends exactly at the head with every change once and in order, and a
 * request really did go out ahead of the cursor.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import { openPartySocket } from "../../../desktop/sync/transport.js";
import type { Change } from "../../../protocol/index.js";
import { benchProject } from "../../../bench/lib/payload.js";
import { makeEventFactory } from "../../support/events.js";
import { openStore } from "../../support/desktop.js";
import { waitUntil } from "../../support/e2e.js";
import { type LocalServer, NodeClient, startServer, tokenFor } from "../../support/server.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const C = "01936f3c-0000-7000-8000-0000000000c3";
const COMMITS = 4_500; // five pages or more (at most 1,000 changes or 512 KiB each)

let server: LocalServer;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => server?.stop());

it("prefetches the next page while applying one, and asks for every page exactly once", async () => {
  const branch = "prefetch";
  const f = makeEventFactory(7);
  const client = await NodeClient.open(server, branch, A, "owner");
  await client.pushAll(COMMITS, (i) => f.event(A, "project", f.nextId(), "create", benchProject(i)), f.nextId);
  client.close();

  const { store } = await openStore({ branch, device: C, role: "owner" });
  expect(store.init({ server_url: server.url.origin, token: await tokenFor(branch, C, "owner") }).ok).toBe(true);
  // This test is about pulling: bootstrap from the branch as it was at seq 0 (nothing staged), so
  // the engine pulls everything instead of downloading a snapshot.
  store.stageSnapshot().swap(0, "empty snapshot at seq 0 (pull-prefetch test)");
  const pulls: Array<{ since: number; cursorWhenSent: number }> = [];
  const pageEnds: Array<{ last: number | null; more: boolean }> = [];
  const open = openPartySocket(10_000);
  const received: Change[] = [];
  const engine = new SyncEngine({
    store,
    openSocket: (url, handlers) => {
      const socket = open(url, {
        ...handlers,
        message: (text) => {
          const frame = JSON.parse(text) as { type: string; changes?: Array<{ seq: number }>; more?: boolean };
          if (frame.type === "changes") pageEnds.push({ last: frame.changes!.at(-1)?.seq ?? null, more: frame.more! });
          handlers.message(text);
        },
      });
      return {
        ...socket,
        send: (text: string) => {
          const frame = JSON.parse(text) as { type: string; since?: number };
          if (frame.type === "pull") pulls.push({ since: frame.since!, cursorWhenSent: store.cursor() });
          socket.send(text);
        },
        close: (code?: number, reason?: string) => socket.close(code, reason),
      };
    },
    onChanges: (changes) => received.push(...changes),
  });
  engine.start();
  try {
    await waitUntil("caught up", () => store.cursor() === COMMITS && engine.status().kind === "live", 30_000);
  } finally {
    engine.stop();
  }

  expect(received.map((c) => c.seq)).toEqual(Array.from({ length: COMMITS }, (_, i) => i + 1));
  // One request per page: the first from 0, each next one from where the page before it ended.
  expect(pageEnds.length).toBeGreaterThanOrEqual(5);
  expect(pageEnds.at(-1)).toEqual({ last: COMMITS, more: false });
  expect(pulls.map((p) => p.since)).toEqual([0, ...pageEnds.slice(0, -1).map((p) => p.last)]);
  // Every page after the first was asked for before the page before it was applied.
  expect(pulls.slice(1).every((p) => p.since > p.cursorWhenSent)).toBe(true);
  store.close();
}, 60_000);
