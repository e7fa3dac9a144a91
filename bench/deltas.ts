/**
 * Issue 18: bytes that grow with the change, not with the entity. Each workload runs twice on a
 * fresh branch of one local workerd: with devices speaking protocol v8 (every change carries its
 * whole entity: before issue 18) and v9 (changes as deltas where smaller). Devices are the app's
 * LocalStore + SyncEngine in this process, each behind a loopback proxy that counts what the
 * server sent it: as text (the messages' UTF-8 bytes) and on the wire (the sockets' bytes, with the
 * permessage-deflate the server negotiates, frame headers and handshakes included).
 *
 *   npx tsx bench/deltas.ts [--quick]
 *
 * selection: a project of 20,000 photos; one photo's note is changed on device A (a change set up,
 *   protocol v8). Measured: what a live device B receives for it, and what a device C that held the
 *   project and was away receives when it comes back (its catch-up, handshake included).
 * reconnect: 1,000 projects (notes of about 1 kB) on a device D that then goes away while 50,000
 *   updates commit (a title or a status each); D's catch-up when it comes back: time from its
 *   engine's start to its cursor at the head, and the bytes it was sent.
 * Results: printed, and bench/results/deltas.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import nodePath from "node:path";
import { MAX_MEDIA_ITEMS, type MediaItem, type TransferId } from "../domain/index.js";
import { splitIntoChunks } from "../protocol/index.js";
import { Prng } from "../test/support/prng.js";
import { desktop, type Desktop, waitUntil } from "../test/support/e2e.js";
import { makeEventFactory } from "../test/support/events.js";
import { startProxy, type TestProxy } from "../test/support/proxy.js";
import { type LocalServer, NodeClient, startServer } from "../test/support/server.js";
import { round } from "./lib/stats.js";

const quick = process.argv.includes("--quick");
const PHOTOS = 20_000;
const RECONNECT = quick ? { projects: 200, updates: 5_000 } : { projects: 1_000, updates: 50_000 };
const VERSIONS = [8, 9] as const;
if (PHOTOS > MAX_MEDIA_ITEMS) throw new Error("the selection workload needs more photos than a project may hold");

const A = "01936f3c-0000-7000-8000-0000000000a1";
let deviceNo = 0;
const nextDevice = () => `01936f3c-0000-7000-8000-${(0xb00 + ++deviceNo).toString(16).padStart(12, "0")}`;
const sha = (n: number) => n.toString(16).padStart(64, "0");
const photo = (n: number, note: string | null = null): MediaItem => ({ sha256: sha(n) as MediaItem["sha256"], file_name: `IMG_${n}.CR3`, size_bytes: n, note });

const closers: Array<() => unknown> = [];
// Every device's database goes with the process, however it ends.
const dbDir = mkdtempSync(nodePath.join(tmpdir(), "sv-bench-deltas-"));
process.on("exit", () => rmSync(dbDir, { recursive: true, force: true }));
let dbNo = 0;
const dbPath = () => nodePath.join(dbDir, `device-${++dbNo}.sqlite`);

async function device(server: LocalServer, branch: string, protocolVersion: number, path = dbPath(), id = nextDevice()): Promise<{ d: Desktop; proxy: TestProxy; path: string; id: string }> {
  const proxy = await startProxy(server.url);
  const d = await desktop({ ...server, url: proxy.url }, branch, id, "owner", deviceNo, { path, protocolVersion });
  closers.push(() => proxy.close(), () => d.close());
  return { d, proxy, path, id };
}
const stop = (x: { d: Desktop; proxy: TestProxy }) => {
  x.d.close();
  return x.proxy.close();
};

async function selection(server: LocalServer, version: number) {
  const branch = `deltas-selection-v${version}-${Date.now().toString(36)}`;
  const f = makeEventFactory(18 + version);
  const a = await NodeClient.open(server, branch, A);
  const items = Array.from({ length: PHOTOS }, (_, i) => photo(i + 1));
  const base = f.createProject(A);
  const create = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
  for (const chunk of await splitIntoChunks(JSON.stringify({ type: "push", batch_id: f.nextId(), events: [create] }), f.nextId() as TransferId)) a.send(chunk);
  await a.next("verdicts", 120_000);
  const id = create.entity_id;
  const has = (d: Desktop, v: number) => () => d.store.base(id)?.version === v;

  const b = await device(server, branch, version);
  const c = await device(server, branch, version);
  b.d.start();
  c.d.start();
  await waitUntil("B and C have the project", () => has(b.d, 1)() && has(c.d, 1)(), 120_000);
  await stop(c);
  b.proxy.takeServerBytes();
  const edit = f.updateProject(A, id, { media_selection: { upsert: [photo(12_345, "retouch, warm tones")], remove: [] } }, { base: 1 });
  a.send({ type: "push", batch_id: f.nextId(), events: [edit] });
  await a.next("verdicts");
  await waitUntil("B has the edit", has(b.d, 2), 60_000);
  const live = b.proxy.takeServerBytes();
  const back = await device(server, branch, version, c.path, c.id);
  back.d.start();
  await waitUntil("C has the edit", has(back.d, 2), 60_000);
  const pulled = back.proxy.takeServerBytes();
  const wholeEntity = JSON.stringify(b.d.store.base(id)).length;
  await stop(b);
  await stop(back);
  a.close();
  return { entity_bytes: wholeEntity, live, pulled_later: pulled };
}

async function reconnect(server: LocalServer, version: number) {
  const branch = `deltas-reconnect-v${version}-${Date.now().toString(36)}`;
  const f = makeEventFactory(180 + version);
  const a = await NodeClient.open(server, branch, A);
  // Notes of their own per project (about 1 kB of words), so deflate finds no more repetition than real notes have.
  const words = new Prng(version, "notes");
  const VOCABULARY = ["golden", "hour", "portraits", "lake", "bring", "85 mm", "reflector", "bride", "groom", "family", "album", "drone", "sunset", "backup", "venue", "church", "reception", "candid", "retouch", "print", "frame", "studio", "outdoor", "rain", "plan", "B", "second", "shooter", "arrive", "early", "8:30", "12 x 18", "canvas", "proofs", "Friday"];
  const notesOf = () => Array.from({ length: 170 }, () => words.pick(VOCABULARY)).join(" ");
  const creates = Array.from({ length: RECONNECT.projects }, (_, i) => f.createProject(A, f.nextId(), `Shoot ${i}`));
  await a.pushAll(creates.length, (i) => ({ ...creates[i]!, payload: { ...(creates[i]!.payload as object), notes: notesOf() } }) as never, () => f.nextId());
  const d = await device(server, branch, version);
  d.d.start();
  await waitUntil("D has every project", () => d.d.store.cursor() === RECONNECT.projects, 120_000);
  await stop(d);

  const versions = new Array<number>(RECONNECT.projects).fill(1);
  const statuses = ["booked", "shooting", "editing", "delivered"] as const;
  await a.pushAll(
    RECONNECT.updates,
    (i) => {
      const p = i % RECONNECT.projects;
      const patch = i % 2 === 0 ? { title: `Shoot ${p}, take ${i}` } : { status: statuses[i % statuses.length] };
      const baseVersion = versions[p]!;
      versions[p] = baseVersion + 1;
      return f.updateProject(A, creates[p]!.entity_id, patch, { base: baseVersion });
    },
    () => f.nextId(),
  );
  const head = RECONNECT.projects + RECONNECT.updates;
  const back = await device(server, branch, version, d.path, d.id);
  const started = performance.now();
  back.d.start();
  await waitUntil("D has caught up", () => back.d.store.cursor() === head, 300_000);
  const ms = performance.now() - started;
  const bytes = back.proxy.takeServerBytes();
  await stop(back);
  a.close();
  return { commits: RECONNECT.updates, ms: Math.round(ms), ...bytes };
}

const server = await startServer(undefined, 0);
const results: Record<string, unknown> = {};
try {
  await fetch(new URL("/health", server.url));
  for (const v of VERSIONS) results[`selection_v${v}`] = await selection(server, v);
  for (const v of VERSIONS) results[`reconnect_v${v}`] = await reconnect(server, v);
} finally {
  for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
  await server.stop();
}

type Sel = { entity_bytes: number; live: { text: number; wire: number }; pulled_later: { text: number; wire: number } };
type Rec = { commits: number; ms: number; text: number; wire: number };
const s8 = results.selection_v8 as Sel;
const s9 = results.selection_v9 as Sel;
const r8 = results.reconnect_v8 as Rec;
const r9 = results.reconnect_v9 as Rec;
const kb = (n: number) => `${round(n / 1024, 1)} KiB`;
const x = (before: number, after: number) => `${round(before / after, 1)}×`;
console.log(`\none photo annotated in a project of ${PHOTOS.toLocaleString("en")} photos (${kb(s9.entity_bytes)} as JSON)`);
console.log(`  live device B:        v8 ${kb(s8.live.text)} text, ${kb(s8.live.wire)} wire   →  v9 ${s9.live.text} B text, ${s9.live.wire} B wire   (${x(s8.live.text, s9.live.text)} text, ${x(s8.live.wire, s9.live.wire)} wire)`);
console.log(`  device C back later:  v8 ${kb(s8.pulled_later.text)} text, ${kb(s8.pulled_later.wire)} wire   →  v9 ${kb(s9.pulled_later.text)} text, ${kb(s9.pulled_later.wire)} wire   (${x(s8.pulled_later.text, s9.pulled_later.text)} text, ${x(s8.pulled_later.wire, s9.pulled_later.wire)} wire; handshake included)`);
console.log(`\nreconnect catch-up of ${r9.commits.toLocaleString("en")} commits (updates of ${RECONNECT.projects.toLocaleString("en")} projects)`);
console.log(`  v8: ${r8.ms} ms, ${kb(r8.text)} text, ${kb(r8.wire)} wire`);
console.log(`  v9: ${r9.ms} ms, ${kb(r9.text)} text, ${kb(r9.wire)} wire   (${x(r8.text, r9.text)} text, ${x(r8.wire, r9.wire)} wire, ${x(r8.ms, r9.ms)} time)`);
console.log(`  permessage-deflate saves ${x(r8.text, r8.wire)} (v8) and ${x(r9.text, r9.wire)} (v9) of the text`);
mkdirSync("bench/results", { recursive: true });
writeFileSync("bench/results/deltas.json", JSON.stringify({ benchmark: "deltas", quick, photos: PHOTOS, reconnect: RECONNECT, results, node: process.version, at: new Date().toISOString() }, null, 2));
