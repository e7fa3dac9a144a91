/**
 * The browser client's socket in Chromium against the real server under workerd: hello/welcome,
 * pushes and their verdicts, catching up over several pull pages, live changes from another device,
 * a poke answered with a pull whose page arrives in chunks, reconnecting after the network went
 * away, and stopping for good after a terminal close.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { splitIntoChunks } from "../../../protocol/chunking.js";
import { MAX_BATCH_EVENTS, PROTOCOL_VERSION, type Verdict } from "../../../protocol/index.js";
import type { SyncEvent, TransferId } from "../../../domain/index.js";
import { makeEventFactory } from "../../support/events.js";
import { signDeviceToken } from "../../../durable/auth.js";
import type { DeviceClaims } from "../../../protocol/token.js";
import { installIdOf, NodeClient, TEST_SECRET, tokenFor } from "../../support/server.js";
import * as ex from "../../fixtures/examples.js";
import { CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, PONG_TIMEOUT_MS } from "../../../client/index.js";
import { clientHarness, logOf, type MakeOptions, stateOf } from "./harness.js";
import { startWireTap } from "./wire-tap.js";

const h = clientHarness();
const DASH = "01936f3c-0000-7000-8000-0000000001d1";
const TILL = "01936f3c-0000-7000-8000-0000000001d2";
const OTHER = "01936f3c-0000-7000-8000-0000000001d3";
const f = makeEventFactory(15);

let branchCount = 0;
const newBranch = (what: string) => `client-${what}-${Date.now().toString(36)}-${++branchCount}`;

async function options(branch: string, device: string, role: "owner" | "manager" | "staff" | "viewer", extra: Partial<MakeOptions> = {}): Promise<MakeOptions> {
  return { server: h.server.url.origin, branch, token: await tokenFor(branch, device, role), deviceId: device, installId: installIdOf(device), ...extra };
}

async function started(page: Page, name: string, o: MakeOptions): Promise<void> {
  await page.evaluate(([n, opts]) => {
    window.make(n, opts);
    window.made[n]!.client.start();
  }, [name, o] as const);
}

/** Waits for `state`; a failure shows the client's whole log. */
async function untilState(page: Page, name: string, state: string, timeout = 20_000): Promise<void> {
  try {
    await expect.poll(async () => (await stateOf(page, name)).state, { timeout }).toBe(state);
  } catch (e) {
    throw new Error(`${name} never became ${state}: ${JSON.stringify({ ...(await stateOf(page, name)), log: await logOf(page, name) }).slice(0, 3000)}`, { cause: e });
  }
}

const push = (page: Page, name: string, events: SyncEvent[]) =>
  page.evaluate(([n, evs]) => window.made[n]!.client.push(evs), [name, events] as const) as Promise<Verdict[]>;

/** A correctly signed token that expired an hour ago. */
function expiredToken(branch: string, device: string): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) - 7_200;
  return signDeviceToken({ v: 1, branch, device, user: "e2e", role: "viewer", iat, exp: iat + 3_600 } as DeviceClaims, TEST_SECRET);
}

/** Commits `count` sales from another device over `ws`. */
async function seed(branch: string, count: number, device = OTHER): Promise<void> {
  const other = await NodeClient.open(h.server, branch, device, "owner");
  await other.pushAll(count, (i) => f.sale(device, undefined, `T9-${String(i).padStart(6, "0")}`), f.nextId);
  other.close();
}

describe("the browser client's socket", { timeout: 90_000 }, () => {
  it("says hello with its install and its clock and is welcomed; the server audits the clock's skew", async () => {
    const branch = newBranch("hello");
    const page = await h.page();
    await started(page, "a", await options(branch, DASH, "manager", { clockOffsetMs: 300_000 }));
    await untilState(page, "a", "open");
    const log = await logOf(page, "a");
    expect(log.states).toEqual(["connecting", "open"]);
    expect(log.welcomes).toHaveLength(1);
    expect(log.welcomes[0]).toMatchObject({ device_id: DASH, role: "manager", protocol_version: PROTOCOL_VERSION, head: 0 });
    expect(log.errors).toEqual([]);
    const devices = await fetch(new URL(`/v1/branches/${branch}/devices`, h.server.url), { headers: { Authorization: `Bearer ${await tokenFor(branch, DASH, "manager")}` } });
    const me = ((await devices.json()) as { devices: Array<{ device_id: string; install_id: string; app: string; clock_skew_ms: number }> }).devices.find((d) => d.device_id === DASH);
    expect(me).toMatchObject({ install_id: installIdOf(DASH), app: "client-test/1" });
    expect(me!.clock_skew_ms).toBeGreaterThan(290_000);
    expect(me!.clock_skew_ms).toBeLessThan(310_000);
  });

  it("pushes: a confirmed and a rejected verdict, and 201 events as two batches matched by batch_id; not open → not_open", async () => {
    const branch = newBranch("push");
    const tap = await startWireTap(h.server.url);
    try {
      const page = await h.page();
      await started(page, "till", { ...(await options(branch, TILL, "staff")), server: tap.url });
      await untilState(page, "till", "open");

      const create = f.createProject(TILL);
      const [confirmed] = await push(page, "till", [create]);
      expect(confirmed).toMatchObject({ event_id: create.id, status: "confirmed", seq: 1, version: 1 });
      // Two edits of version 1 in one batch: the first wins, the second is a conflict.
      const first = f.updateProject(TILL, create.entity_id, { title: "Renamed" }, { base: 1 });
      const stale = f.updateProject(TILL, create.entity_id, { title: "Renamed again" }, { base: 1 });
      const [won, rejected] = await push(page, "till", [first, stale]);
      expect(won).toMatchObject({ event_id: first.id, status: "confirmed", seq: 2, version: 2 });
      expect(rejected).toMatchObject({ event_id: stale.id, status: "rejected", code: "version_conflict", server_entity: { version: 2 } });

      const sales = Array.from({ length: MAX_BATCH_EVENTS + 1 }, (_, i) => f.sale(TILL, undefined, `T1-${String(i).padStart(6, "0")}`));
      const verdicts = await push(page, "till", sales);
      expect(verdicts.map((v) => v.event_id)).toEqual(sales.map((s) => s.id));
      expect(verdicts.every((v) => v.status === "confirmed")).toBe(true);
      const pushes = tap.sent.filter((t) => t.startsWith('{"type":"push"')).map((t) => JSON.parse(t) as { batch_id: string; events: unknown[] });
      expect(pushes.map((p) => p.events.length)).toEqual([1, 2, MAX_BATCH_EVENTS, 1]);
      expect(new Set(pushes.map((p) => p.batch_id)).size).toBe(4);

      const notOpen = await page.evaluate(async (ev) => {
        window.made.till!.client.stop();
        try {
          await window.made.till!.client.push([ev]);
          return null;
        } catch (e) {
          return { name: (e as Error).name, code: (e as { code: string }).code };
        }
      }, f.sale(TILL));
      expect(notOpen).toEqual({ name: "SyncRequestError", code: "not_open" });
      expect((await stateOf(page, "till")).state).toBe("idle");
    } finally {
      await tap.close();
    }
  });

  it("follow all: catches up over several pull pages from its cursor, asking for each next page, then follows live", async () => {
    const branch = newBranch("pull");
    await seed(branch, 25);
    const tap = await startWireTap(h.server.url);
    try {
      const page = await h.page();
      await started(page, "a", { ...(await options(branch, DASH, "viewer", { pullPageLimit: 10 })), server: tap.url });
      await expect.poll(async () => (await stateOf(page, "a")).cursor, { timeout: 20_000 }).toBe(25);
      const log = await logOf(page, "a");
      expect(log.changes.map((c) => [c.origin, c.changes.length, c.cursor])).toEqual([["pull", 10, 10], ["pull", 10, 20], ["pull", 5, 25]]);
      expect(log.changes.flatMap((c) => c.changes.map((x) => x.seq))).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
      const pulls = tap.sent.filter((t) => t.startsWith('{"type":"pull"')).map((t) => (JSON.parse(t) as { since: number; limit: number }));
      expect(pulls).toEqual([{ since: 0 }, { since: 10 }, { since: 20 }].map((p) => expect.objectContaining({ ...p, limit: 10 })));

      // Then live: another device's commit arrives as `live` and continues the cursor.
      await seed(branch, 2, TILL);
      await expect.poll(async () => (await stateOf(page, "a")).cursor, { timeout: 20_000 }).toBe(27);
      const after = await logOf(page, "a");
      expect(after.changes.slice(3).map((c) => c.origin)).toEqual(["live"]);
      expect(after.errors).toEqual([]);
    } finally {
      await tap.close();
    }
  });

  it("follow live: starts at the welcome's head without history, then gets another device's commits live", async () => {
    const branch = newBranch("live");
    await seed(branch, 5);
    const page = await h.page();
    await started(page, "a", await options(branch, DASH, "viewer", { follow: "live" }));
    await untilState(page, "a", "open");
    expect((await stateOf(page, "a")).cursor).toBe(5);
    await seed(branch, 3, TILL);
    await expect.poll(async () => (await stateOf(page, "a")).cursor, { timeout: 20_000 }).toBe(8);
    const log = await logOf(page, "a");
    expect(log.changes.every((c) => c.origin === "live")).toBe(true);
    expect(log.changes.flatMap((c) => c.changes.map((x) => [x.seq, x.device_id]))).toEqual([[6, TILL], [7, TILL], [8, TILL]]);
  });

  it("a commit too large to broadcast comes as a poke: answered with a pull whose page arrives in checked chunks", async () => {
    const branch = newBranch("poke");
    const page = await h.page();
    await started(page, "a", await options(branch, DASH, "viewer", { follow: "live" }));
    await untilState(page, "a", "open");

    // A project of ~1.3 MB: larger than a frame, so its upload, its broadcast and its page are all chunked.
    const items = Array.from({ length: 8_000 }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${String(i).padStart(5, "0")}.CR3`, size_bytes: 31_457_280, note: "a note long enough to make this item about one hundred and sixty bytes" }));
    const big = f.event(OTHER, "project", f.nextId(), "create", { ...ex.project, media_selection: { items } });
    const other = await NodeClient.open(h.server, branch, OTHER, "owner");
    const chunks = await splitIntoChunks(JSON.stringify({ type: "push", batch_id: f.nextId(), events: [big] }), f.nextId() as TransferId);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      other.send(chunk);
      await other.next("upload_state");
    }
    const { verdicts } = await other.next("verdicts", 30_000);
    expect(verdicts[0]).toMatchObject({ status: "confirmed", seq: 1 });
    other.close();

    await expect.poll(async () => (await stateOf(page, "a")).cursor, { timeout: 20_000 }).toBe(1);
    const log = await logOf(page, "a");
    expect(log.pokes).toEqual([{ type: "poke", head: 1 }]);
    expect(log.changes).toHaveLength(1);
    expect(log.changes[0]).toMatchObject({ origin: "pull", cursor: 1 });
    expect((log.changes[0]!.changes[0]!.entity as { data: { media_selection: { items: unknown[] } } }).data.media_selection.items).toHaveLength(8_000);
    expect(log.errors).toEqual([]);
    expect((await stateOf(page, "a")).state).toBe("open");
  });

  it("reconnects with backoff after the network went away, says hello again and pulls what it missed", async () => {
    const branch = newBranch("reconnect");
    const tap = await startWireTap(h.server.url);
    try {
      const page = await h.page();
      await started(page, "a", { ...(await options(branch, DASH, "viewer", { random: 0.5 })), server: tap.url });
      await untilState(page, "a", "open");
      tap.refuse = true;
      tap.cut();
      await untilState(page, "a", "offline");
      await seed(branch, 3, TILL); // committed while the client is away
      await expect.poll(() => tap.connections, { timeout: 20_000 }).toBeGreaterThanOrEqual(3); // retries refused
      tap.refuse = false;
      await untilState(page, "a", "open", 30_000);
      await expect.poll(async () => (await stateOf(page, "a")).cursor, { timeout: 20_000 }).toBe(3);
      const log = await logOf(page, "a");
      expect(log.welcomes.length).toBe(2);
      // The backoff (machines/backoff.ts) with the injected jitter 0.5: 3/4 of 500 ms, doubling per failed attempt.
      const backoffWaits = log.waits.filter((ms) => ![HEARTBEAT_MS, PONG_TIMEOUT_MS, CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS].includes(ms));
      expect(backoffWaits.slice(0, 3)).toEqual([375, 750, 1_500]);
      expect(log.changes.map((c) => c.origin)).toEqual(["pull"]);
      expect(log.states[0]).toBe("connecting");
      expect(log.states).toContain("offline");
      expect(log.states.at(-1)).toBe("open");
      expect(log.closed).toEqual([]);
      const hellos = tap.sent.filter((t) => t.startsWith('{"type":"hello"')).map((t) => JSON.parse(t) as { install_id: string; cursor: number });
      expect(hellos.length).toBe(2);
      expect(hellos.every((x) => x.install_id === installIdOf(DASH))).toBe(true);
    } finally {
      await tap.close();
    }
  });

  it("a revoked device is closed device_revoked and does not reconnect; nor after superseded, install_conflict or a refused token", async () => {
    const branch = newBranch("fatal");
    const page = await h.page();
    // Revoked by a manager while connected.
    await started(page, "till", await options(branch, TILL, "staff"));
    await untilState(page, "till", "open");
    const revoke = await fetch(new URL(`/v1/branches/${branch}/devices/${TILL}/revoke`, h.server.url), {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor(branch, DASH, "manager")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ reason: "lost" }),
    });
    expect(revoke.status).toBe(200);
    await untilState(page, "till", "closed");
    // The same install opened twice (a second tab): the older is superseded and stays closed.
    await started(page, "tab1", await options(branch, DASH, "manager"));
    await untilState(page, "tab1", "open");
    await started(page, "tab2", await options(branch, DASH, "manager"));
    await untilState(page, "tab1", "closed");
    // Another install with the same device id (a copied token).
    await started(page, "copy", { ...(await options(branch, DASH, "manager")), installId: "0193a000-0000-7000-8000-00000000c0de" });
    await untilState(page, "copy", "closed");
    // An expired token: the upgrade is refused before the branch; the client asks why over HTTP.
    await started(page, "expired", { ...(await options(branch, OTHER, "viewer")), token: await expiredToken(branch, OTHER) });
    await untilState(page, "expired", "closed");

    // A cursor past the branch's head: the branch was restored from an older copy; nothing to continue.
    await started(page, "ahead", await options(branch, OTHER, "viewer", { cursor: 500 }));
    await untilState(page, "ahead", "closed");

    // Long enough for several retries at the shortest backoff (random 0: 250 ms, 500 ms, 1 s).
    await page.waitForTimeout(2_000);
    const words = await page.evaluate(() => Object.fromEntries(Object.entries(window.made).map(([n, m]) => [n, m.client.closed ? window.sv.closedWords(m.client.closed) : null])));
    const outcome = async (n: string) => {
      const log = await logOf(page, n);
      const s = await stateOf(page, n);
      return { state: s.state, reason: s.closed?.reason, code: s.closed?.code, sockets: log.sockets, closedEvents: log.closed.length };
    };
    expect(await outcome("till")).toEqual({ state: "closed", reason: "device_revoked", code: 4016, sockets: 1, closedEvents: 1 });
    expect(words.till).toContain("revoked");
    expect(await outcome("tab1")).toEqual({ state: "closed", reason: "superseded", code: 4019, sockets: 1, closedEvents: 1 });
    expect(words.tab1).toContain("another tab");
    expect((await stateOf(page, "tab2")).state).toBe("open");
    expect(await outcome("copy")).toEqual({ state: "closed", reason: "install_conflict", code: 4018, sockets: 1, closedEvents: 1 });
    expect(words.copy).toContain("in use by another device");
    expect(await outcome("expired")).toEqual({ state: "closed", reason: "unauthorized", code: 401, sockets: 1, closedEvents: 1 });
    expect((await stateOf(page, "till")).closed?.message).toMatch(/revoked/);
    expect(await outcome("ahead")).toEqual({ state: "closed", reason: "server_behind", code: 1000, sockets: 1, closedEvents: 1 });

    // start() after a terminal close tries again (a person chose to): the revoked device is refused again.
    await page.evaluate(() => window.made.till!.client.start());
    await expect.poll(async () => (await logOf(page, "till")).closed.length, { timeout: 20_000 }).toBe(2);
    expect(await outcome("till")).toMatchObject({ state: "closed", reason: "device_revoked", sockets: 2 });
  });
});

