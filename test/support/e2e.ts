/** Helpers for end-to-end tests: desktops (store + engine) against the real local server. */
import { createServer } from "node:net";
import { gunzipSync } from "node:zlib";
import { SyncEngine } from "../../desktop/sync/engine.js";
import type { LocalStore } from "../../desktop/store/local-store.js";
import { type Change, PROTOCOL_VERSION, SnapshotManifest } from "../../protocol/index.js";
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

/**
 * The server's truth, read through its public HTTP API: every entity at its latest version, the head
 * and the ledger. From the change log; on a branch whose log was compacted (a pull from 0 is 410,
 * protocol v9), from a snapshot exported now, read as its chain (the base, then each increment).
 */
export async function serverTruth(server: LocalServer, branch: string): Promise<{ entities: Entity[]; head: number; ledger: LedgerRow[] }> {
  const token = await tokenFor(branch, "01936f3c-0000-7000-8000-0000000000ff", "owner");
  const headers = { Authorization: `Bearer ${token}` };
  const ledgerNow = async () => ((await (await fetch(new URL(`/v1/branches/${branch}/ledger`, server.url), { headers })).json()) as { rows: LedgerRow[] }).rows;
  const sorted = (entities: Map<string, Entity>) => [...entities.values()].sort((a, b) => a.entity_id.localeCompare(b.entity_id));
  const latest = new Map<string, Entity>();
  let since = 0;
  let head = 0;
  for (let more = true; more; ) {
    const response = await fetch(new URL(`/v1/branches/${branch}/changes?since=${since}&limit=1000&protocol_version=${PROTOCOL_VERSION}`, server.url), { headers });
    if (response.status === 410) {
      const { entities, seq } = await snapshotTruth(server, branch, headers);
      return { entities: sorted(entities), head: seq, ledger: await ledgerNow() };
    }
    const page = (await response.json()) as { changes: Change[]; cursor: number; more: boolean; head: number };
    for (const c of page.changes) latest.set(c.entity_id, c.entity);
    since = page.cursor;
    more = page.more;
    head = page.head;
  }
  return { entities: sorted(latest), head, ledger: await ledgerNow() };
}

/** A snapshot exported now (at the head) and read as its chain: every entity at its newest version, and the seq. */
async function snapshotTruth(server: LocalServer, branch: string, headers: Record<string, string>): Promise<{ entities: Map<string, Entity>; seq: number }> {
  const exported = await fetch(new URL(`/v1/branches/${branch}/snapshots`, server.url), { method: "POST", headers });
  if (exported.status !== 201) throw new Error(`snapshot export refused: ${exported.status} ${await exported.text()}`);
  const manifest = SnapshotManifest.parse(await exported.json());
  const { chain } = (await (await fetch(new URL(`/v1/branches/${branch}/snapshots/latest?chain=1`, server.url), { headers })).json()) as { chain: SnapshotManifest[] };
  if (chain.at(-1)?.seq !== manifest.seq) throw new Error(`the newest chain ends at seq ${chain.at(-1)?.seq}, not at the snapshot just exported (${manifest.seq})`);
  const entities = new Map<string, Entity>();
  for (const link of chain) {
    const data = await fetch(new URL(`/v1/branches/${branch}/snapshots/${link.seq}/data`, server.url), { headers });
    for (const line of gunzipSync(Buffer.from(await data.arrayBuffer())).toString("utf8").trim().split("\n")) {
      const parsed = JSON.parse(line) as { kind: string; entity?: Entity };
      if (parsed.kind === "entity") entities.set(parsed.entity!.entity_id, parsed.entity!);
    }
  }
  return { entities, seq: manifest.seq };
}

export async function waitUntil(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
