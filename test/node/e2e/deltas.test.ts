/**
 * Deltas on the way down (protocol v9, issue 18) from the desktop's side, against the real Worker and
 * branch Durable Object under workerd: real stores and sync engines, each device behind its own
 * loopback proxy so the frames the server sent it can be read (and, for the fallback, spoiled).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Entity, MediaItem } from "../../../domain/index.js";
import * as ex from "../../fixtures/examples.js";
import { type Desktop, desktop, freePort, serverTruth, waitUntil } from "../../support/e2e.js";
import { startProxy, type TestProxy } from "../../support/proxy.js";
import { type LocalServer, startServer } from "../../support/server.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const C = "01936f3c-0000-7000-8000-0000000000c3";

const sha = (n: number) => n.toString(16).padStart(64, "0");
const item = (n: number, note: string | null = null): MediaItem => ({ sha256: sha(n) as MediaItem["sha256"], file_name: `IMG_${n}.CR3`, size_bytes: n, note });

let server: LocalServer;
let n = 0;
const open: Array<Desktop | TestProxy> = [];
const branch = (what: string) => `delta-${what}-${Date.now().toString(36)}-${++n}`;

beforeAll(async () => {
  server = await startServer(undefined, await freePort());
  await fetch(new URL("/health", server.url));
}, 60_000);
afterAll(async () => {
  for (const o of open.reverse()) "engine" in o ? o.close() : await o.close();
  await server?.stop();
});

/** A device behind a proxy of its own: `frames` are the texts the server sent it. */
async function device(b: string, id: string, seed: number, spoil?: (text: string) => string) {
  const proxy = await startProxy(server.url);
  const frames: string[] = [];
  proxy.rewriteServerFrames((text) => {
    const out = spoil ? spoil(text) : text;
    frames.push(out);
    return out;
  });
  const d = await desktop({ ...server, url: proxy.url }, b, id, "owner", seed);
  open.push(proxy, d);
  return { d, frames };
}

const entityOf = (d: Desktop, id: string): Entity | null => d.store.base(id);
/** The `live` and `changes` frames that carry the change with this seq (not a verdict of it). */
const framesWith = (frames: readonly string[], seq: number) => frames.filter((f) => /^\{"type":"(live|changes)"/.test(f) && f.includes(`{"seq":${seq},`));

/** A project of `photos` photos (20,000 by default) on the server, on A, and on B (live). */
async function bigProject(what: string, spoil?: (text: string) => string, photos = 20_000) {
  const b = branch(what);
  const a = await device(b, A, 1);
  const items = Array.from({ length: photos }, (_, i) => item(i + 1));
  const created = a.d.store.createProject({ ...ex.project, media_selection: { items } });
  if (!created.ok) throw new Error(created.error.message);
  const id = created.value.event.entity_id;
  a.d.start();
  await a.d.engine.untilDrained(60_000);
  const live = await device(b, B, 2, spoil);
  live.d.start();
  await waitUntil("B has the project", () => entityOf(live.d, id)?.version === 1, 60_000);
  return { b, a, live, id, items };
}

describe("deltas on the way down", () => {
  it("one photo annotated among 20,000 reaches a live device and a device pulling later as a delta over 100x smaller, and both end equal to the server", async () => {
    const { b, a, live, id, items } = await bigProject("annotate");
    const picked = items.map((i, k) => (k === 12_345 ? { ...i, note: "retouch, warm tones" } : i));
    const edited = a.d.store.setMediaSelection(id, { items: picked });
    if (!edited.ok) throw new Error(edited.error.message);
    await a.d.engine.untilDrained(60_000);
    await waitUntil("B has the edit", () => entityOf(live.d, id)?.version === 2, 30_000);

    const later = await device(b, C, 3);
    later.d.start();
    await waitUntil("C has everything", () => entityOf(later.d, id)?.version === 2, 60_000);

    const truth = (await serverTruth(server, b)).entities.find((e) => e.entity_id === id)!;
    expect(truth).toMatchObject({ version: 2 });
    for (const d of [a.d, live.d, later.d]) {
      expect(entityOf(d, id)).toEqual(truth);
      expect(d.store.get(id)?.entity).toEqual(truth);
    }
    // The edit, as each reader was sent it: a delta, in a frame far smaller than the entity.
    const whole = JSON.stringify(truth).length;
    for (const reader of [live, later]) {
      const sent = framesWith(reader.frames, 2);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toContain('"delta":');
      expect(sent[0]).not.toContain('"entity":');
      expect(whole / sent[0]!.length).toBeGreaterThan(100);
    }
  }, 180_000);

  it("a delta that does not verify is pulled again whole, and the device still ends equal to the server", async () => {
    let spoiled = 0;
    // Spoils the hash of every delta the live device is sent in a `live` frame: it must not trust one.
    const spoil = (text: string) => {
      if (!text.startsWith('{"type":"live"') || !text.includes('"delta":')) return text;
      spoiled++;
      return text.replace(/"sha256":"[0-9a-f]{64}"}/g, `"sha256":"${"0".repeat(64)}"}`);
    };
    // 2,000 photos: the change pulled again whole fits one frame, so the page can be read here.
    const { b, a, live, id, items } = await bigProject("spoiled", spoil, 2_000);
    const edited = a.d.store.setMediaSelection(id, { items: [...items.slice(1), item(30_000, "added on set")] });
    if (!edited.ok) throw new Error(edited.error.message);
    await a.d.engine.untilDrained(60_000);
    await waitUntil("B has the edit", () => entityOf(live.d, id)?.version === 2, 30_000);

    expect(spoiled).toBeGreaterThan(0);
    const truth = (await serverTruth(server, b)).entities.find((e) => e.entity_id === id)!;
    expect(entityOf(live.d, id)).toEqual(truth);
    expect(live.d.store.get(id)?.entity).toEqual(truth);
    // The spoiled delta, then the same change again in a page of whole entities.
    const sent = framesWith(live.frames, 2);
    expect(sent.map((f) => (f.includes('"delta":') ? "delta" : "whole"))).toEqual(["delta", "whole"]);
    expect(sent[1]).toMatch(/^\{"type":"changes"/);
  }, 180_000);

  it("the pusher's own commits come back whole, another device's as deltas", async () => {
    const { a, live, id } = await bigProject("own", undefined, 50);
    const edited = live.d.store.updateProject(id, { title: "Perera reception" });
    if (!edited.ok) throw new Error(edited.error.message);
    await live.d.engine.untilDrained(30_000);
    await waitUntil("A has B's edit", () => entityOf(a.d, id)?.version === 2, 30_000);
    expect(framesWith(live.frames, 2).every((f) => f.includes('"entity":'))).toBe(true);
    const toA = framesWith(a.frames, 2);
    expect(toA.length).toBeGreaterThan(0);
    expect(toA.every((f) => f.includes('"delta":{"base_version":1,"version":2,"data":{"title":"Perera reception"}'))).toBe(true);
  }, 180_000);
});
