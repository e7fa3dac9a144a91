/** Helpers for end-to-end tests: desktops (store + engine) against the real local server. */
import { createServer } from "node:net";
import { SyncEngine } from "../../desktop/sync/engine.js";
import type { LocalStore } from "../../desktop/store/local-store.js";
import { type Change, PROTOCOL_VERSION } from "../../protocol/index.js";
import type { Entity, LedgerRow, Role } from "../../domain/index.js";
import { openStore } from "./desktop.js";
import { type LocalServer, tokenFor } from "./server.js";

/** A free loopback port (for a server that must come back on the same address after a restart). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface Desktop {
  store: LocalStore;
  engine: SyncEngine;
  received: Change[];
  start(): void;
  close(): void;
}

/**
 * A desktop bound to `branch` on `server`, not yet syncing (offline until `start`). Its clock is
 * fixed at `opts.nowMs` (default: openStore's), whatever the server's real clock says.
 */
export async function desktop(server: LocalServer, branch: string, device: string, role: Role = "owner", seed = 1, opts: { nowMs?: number; path?: string; protocolVersion?: number } = {}): Promise<Desktop> {
  const { protocolVersion, ...storeOpts } = opts;
  const { store } = await openStore({ branch, device, role, seed, serverUrl: server.url.origin, ...storeOpts });
  // The test server signs with its own secret: re-bind the store to a token it accepts.
  const bound = store.init({ server_url: server.url.origin, token: await tokenFor(branch, device, role) });
  if (!bound.ok) throw new Error(bound.error);
  const received: Change[] = [];
  let seedState = seed;
  const random = () => {
    seedState = (seedState * 16807) % 2147483647;
    return seedState / 2147483647;
  };
  const engine = new SyncEngine({ store, random, onChanges: (changes) => received.push(...changes), protocolVersion });
  let started = false;
  return {
    store,
    engine,
    received,
    start: () => {
      if (!started) engine.start();
      started = true;
    },
    close: () => {
      if (started) engine.stop();
      store.close();
    },
  };
}

/** The server's truth, read through its public HTTP API: every entity at its latest version. */
export async function serverTruth(server: LocalServer, branch: string): Promise<{ entities: Entity[]; head: number; ledger: LedgerRow[] }> {
  const token = await tokenFor(branch, "01936f3c-0000-7000-8000-0000000000ff", "owner");
  const headers = { Authorization: `Bearer ${token}` };
  const latest = new Map<string, Entity>();
  let since = 0;
  let head = 0;
  for (let more = true; more; ) {
    const page = (await (await fetch(new URL(`/v1/branches/${branch}/changes?since=${since}&limit=1000&protocol_version=${PROTOCOL_VERSION}`, server.url), { headers })).json()) as {
      changes: Change[];
      cursor: number;
      more: boolean;
      head: number;
    };
    for (const c of page.changes) latest.set(c.entity_id, c.entity);
    since = page.cursor;
    more = page.more;
    head = page.head;
  }
  const ledger = ((await (await fetch(new URL(`/v1/branches/${branch}/ledger`, server.url), { headers })).json()) as { rows: LedgerRow[] }).rows;
  return { entities: [...latest.values()].sort((a, b) => a.entity_id.localeCompare(b.entity_id)), head, ledger };
}

export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
