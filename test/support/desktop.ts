/**
 * Desktop stores on real SQLite files, and a direct in-process link to a real branch core for
 * deterministic tests of the store's sync logic (the engine over real WebSockets is tested in e2e).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { signDeviceToken } from "../../durable/auth.js";
import type { BranchCore } from "../../durable/core/branch.js";
import { LocalStore } from "../../desktop/store/local-store.js";
import type { Entity, Role } from "../../domain/index.js";
import type { DeviceClaims } from "../../protocol/token.js";
import { idGenerator } from "./events.js";

export const SECRET = "desktop-test-secret-0123456789abcdef0123";

export async function deviceToken(branch: string, device: string, role: Role, user = "u-" + device.slice(-4)) {
  const iat = Math.floor(Date.now() / 1000);
  return signDeviceToken({ v: 1, branch, device, user, role, iat, exp: iat + 3600 } as DeviceClaims, SECRET);
}

export function tempDbPath(name = "store") {
  return path.join(mkdtempSync(path.join(tmpdir(), "sv-desktop-")), `${name}.sqlite`);
}

/** A store bound to a branch as `device` with `role`, with a controllable clock. */
export async function openStore(opts: { branch?: string; device: string; role?: Role; path?: string; seed?: number; serverUrl?: string; timeZone?: string; nowMs?: number }) {
  let nowMs = opts.nowMs ?? Date.UTC(2026, 10, 25, 4, 0, 0);
  const ids = idGenerator(opts.seed ?? 1);
  // Random bytes derived from the seeded generator, so ids are reproducible.
  const random = (bytes: Uint8Array) => {
    const hex = ids().replace(/-/g, "");
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice((i * 2) % 32, ((i * 2) % 32) + 2), 16);
  };
  const store = LocalStore.open(opts.path ?? tempDbPath(), { clockMs: () => nowMs, random });
  const init = store.init({
    server_url: opts.serverUrl ?? "http://127.0.0.1:8787",
    token: await deviceToken(opts.branch ?? "test-branch", opts.device, opts.role ?? "owner"),
    // The branch's zone, as the first welcome would bring it (makeCore's branches are UTC by default).
    time_zone: opts.timeZone ?? "UTC",
  });
  if (!init.ok) throw new Error(init.error);
  return { store, advance: (ms: number) => void (nowMs += ms) };
}

/** Pushes every queued event to `core` and pulls everything back, as the engine would, in-process. */
export function syncDirect(store: LocalStore, core: BranchCore) {
  const cfg = store.config()!;
  const actor = { device_id: cfg.device_id, user_id: cfg.user_id, role: cfg.role };
  for (let batch = store.nextBatch(); batch; batch = store.nextBatch()) {
    const outcome = core.push(actor, batch.events as never);
    store.applyVerdicts(batch.batch_id, outcome.verdicts);
  }
  for (let more = true; more; ) {
    const page = core.pull(store.cursor(), 500, crypto.randomUUID());
    store.applyChanges(page.changes);
    more = page.more;
  }
}

/** Every server entity equals the device's base and view, field for field (I5). */
export function expectConverged(store: LocalStore, serverEntities: Entity[], expect: (a: unknown) => { toEqual(b: unknown): void }) {
  const local = [...store.baseEntities()];
  expect(local.map((e) => e.entity_id).sort()).toEqual(serverEntities.map((e) => e.entity_id).sort());
  for (const server of serverEntities) {
    expect(store.base(server.entity_id)).toEqual(server);
    const view = store.get(server.entity_id);
    if (server.deleted) expect(view?.entity ?? null).toEqual(view ? server : null);
    else expect(view?.entity).toEqual(server);
  }
}

/** Damages a queued event's saved payload (desktop/store/testing.ts, where the SQL lives). */
export { corruptQueuedPayload } from "../../desktop/store/testing.js";
