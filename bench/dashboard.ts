/**
 * The dashboard's reads on a big branch (issue 15): a branch of 100,000 commits and 5,000
 * rejections, seeded over HTTP push in batches of MAX_BATCH_EVENTS from several devices (two tills
 * ringing sales over 60 business days, a manager voiding some of them, staff creating and editing
 * projects, one project edited thousands of times, an owner deleting some; another staff device's
 * stale edits refused as version conflicts, its edits of deleted projects refused, and edits that
 * depended on a refused one refused in a chain). Then each dashboard route is timed, its first page
 * and a deep page, each one request (median and p95 over REPEATS), as a viewer; workerd's RSS is
 * read before and sampled during the reads.
 *
 * The bare baseline of this run: the baseline Durable Object (bench/baseline/) holding the same
 * number of records, answering a 50-record page from the start and from the end of its log: the
 * least one page read from a Durable Object's SQLite costs on this machine.
 *
 *   npx tsx bench/dashboard.ts [--quick]     (npm run bench -- dashboard [--quick])
 *
 * Results: printed, and bench/results/dashboard.json. `--quick`: a tenth of the branch.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import WebSocket from "ws";
import { type SyncEvent } from "../domain/index.js";
import { MAX_BATCH_EVENTS, type Verdict } from "../protocol/index.js";
import { makeEventFactory } from "../test/support/events.js";
import { NodeClient, startServer, tokenFor } from "../test/support/server.js";
import { percentile, round } from "./lib/stats.js";
import { sampleWorkerdPeak, workerdRssMb } from "./workerd-memory.js";

const quick = process.argv.includes("--quick");
const COMMITS = quick ? 10_000 : 100_000;
const REJECTIONS = quick ? 600 : 5_000;
const REPEATS = quick ? 10 : 20;
const PROJECTS = quick ? 400 : 2_000;
const DELETED = PROJECTS / 5;

const DEVICES = {
  owner: "01936f3c-0000-7000-8000-00000000d001",
  manager: "01936f3c-0000-7000-8000-00000000d002",
  staff: "01936f3c-0000-7000-8000-00000000d003",
  stale: "01936f3c-0000-7000-8000-00000000d004",
  till1: "01936f3c-0000-7000-8000-00000000d005",
  till2: "01936f3c-0000-7000-8000-00000000d006",
  viewer: "01936f3c-0000-7000-8000-00000000d007",
} as const;
const ROLES = { owner: "owner", manager: "manager", staff: "staff", stale: "staff", till1: "cashier", till2: "cashier", viewer: "viewer" } as const;
type Who = keyof typeof DEVICES;

const server = await startServer(undefined, 0, path.resolve(import.meta.dirname, "wrangler.bench.toml"));
const branch = `dash-${Date.now().toString(36)}`;
const f = makeEventFactory(15);
const tokens = Object.fromEntries(await Promise.all(Object.keys(DEVICES).map(async (who) => [who, await tokenFor(branch, DEVICES[who as Who], ROLES[who as Who], 6 * 3600)]))) as Record<Who, string>;
const api = (route: string) => new URL(`/v1/branches/${branch}/${route}`, server.url);

async function push(who: Who, events: SyncEvent[]): Promise<Verdict[]> {
  const response = await fetch(api("push"), {
    method: "POST",
    headers: { Authorization: `Bearer ${tokens[who]}`, "Content-Type": "application/json" },
    body: JSON.stringify({ type: "push", batch_id: f.nextId(), events }),
  });
  if (!response.ok) throw new Error(`push as ${who}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
  return ((await response.json()) as { verdicts: Verdict[] }).verdicts;
}

/** A batch every event of which must commit (the seeding keeps its own versions). */
async function commit(who: Who, events: SyncEvent[]): Promise<void> {
  const refused = (await push(who, events)).find((v) => v.status !== "confirmed");
  if (refused) throw new Error(`seeding: ${who}'s event was refused: ${JSON.stringify(refused).slice(0, 300)}`);
}

// ───────────────────────────── seeding ─────────────────────────────

const rssIdle = workerdRssMb();
const seedSampler = sampleWorkerdPeak();
const seedStarted = performance.now();
const versions = new Map<string, number>(); // project id → its version on the branch
const projects: string[] = [];
const deleted: string[] = [];
const sales: string[] = [];
let receipt = 0;
let voided = 0;
let commits = 0;
const codes: Record<string, number> = {};
let rejected = 0;

const day = (i: number) => new Date(Date.UTC(2026, 9, 1 + (i % 60), 4, 0, 0)).toISOString();
const sale = (who: "till1" | "till2") => {
  const event = f.sale(DEVICES[who], undefined, `${who === "till1" ? "T1" : "T2"}-${String(++receipt).padStart(6, "0")}`, 1_000 + (receipt % 97) * 500);
  (event.payload as { rung_at: string }).rung_at = day(receipt);
  sales.push(event.entity_id);
  return event;
};

// Every device says hello once (the board lists devices seen on a socket); they push over HTTP.
for (const who of Object.keys(DEVICES) as Who[]) (await NodeClient.open(server, branch, DEVICES[who], ROLES[who])).close();

// Staff creates the projects; the owner deletes a fifth of them.
for (let i = 0; i < PROJECTS; i += MAX_BATCH_EVENTS) {
  const events = Array.from({ length: Math.min(MAX_BATCH_EVENTS, PROJECTS - i) }, (_, k) => f.createProject(DEVICES.staff, undefined, `Shoot ${i + k}`));
  await commit("staff", events);
  for (const e of events) {
    projects.push(e.entity_id);
    versions.set(e.entity_id, 1);
  }
  commits += events.length;
}
for (let i = 0; i < DELETED; i += MAX_BATCH_EVENTS) {
  const ids = projects.slice(PROJECTS - DELETED + i, PROJECTS - DELETED + Math.min(i + MAX_BATCH_EVENTS, DELETED));
  await commit("owner", ids.map((id) => f.deleteProject(DEVICES.owner, id, { base: versions.get(id)! })));
  for (const id of ids) {
    deleted.push(id);
    versions.set(id, versions.get(id)! + 1);
  }
  commits += ids.length;
}
const live = projects.slice(0, PROJECTS - DELETED);
const hot = live[0]!; // edited thousands of times: its history pages deep

/** The next batch of commits, by turn: tills ring sales, staff edit, the manager voids. */
let turn = 0;
let edit = 0;
function nextCommits(n: number): { who: Who; events: SyncEvent[] } {
  const slot = turn++ % 20;
  if (slot === 19 && sales.length - voided >= n) {
    // Every sale voided at most once, oldest first.
    const ids = sales.slice(voided, voided + n);
    voided += n;
    return { who: "manager", events: ids.map((id) => f.voidOrder(DEVICES.manager, id, { base: 1 })) };
  }
  if (slot === 17 || slot === 18) {
    const events = Array.from({ length: n }, (_, k) => {
      const id = k % 2 === 0 ? hot : live[1 + (edit++ % (live.length - 1))]!;
      const base = versions.get(id)!;
      versions.set(id, base + 1);
      return f.updateProject(DEVICES.staff, id, { title: `Shoot, take ${base + 1}` }, { base });
    });
    return { who: "staff", events };
  }
  const till = slot % 2 === 0 ? "till1" : "till2";
  return { who: till, events: Array.from({ length: n }, () => sale(till)) };
}

/** A batch of refusals: stale edits (version_conflict), edits of deleted projects, and edits depending on a refused one. */
let refusal = 0;
function nextRefusals(n: number): SyncEvent[] {
  const events: SyncEvent[] = [];
  while (events.length < n) {
    const kind = refusal++ % 5;
    if (kind === 4) {
      const id = deleted[refusal % deleted.length]!;
      events.push(f.updateProject(DEVICES.stale, id, { title: "Reopened?" }, { base: versions.get(id)! }));
    } else if (kind === 3 && events.length > 0 && events.at(-1)!.operation === "update") {
      const first = events.at(-1)!;
      events.push(f.updateProject(DEVICES.stale, first.entity_id, { title: "Old title, delivered" }, { base: null, dep: first.id }));
    } else {
      // A project edited since (version ≥ 2), edited again from its first version.
      const id = kind % 2 === 0 ? hot : live[1 + (refusal % Math.max(1, Math.min(edit, live.length - 1)))]!;
      events.push(f.updateProject(DEVICES.stale, id, { title: "Old title" }, { base: 1 }));
    }
  }
  return events;
}

const commitBatches = Math.ceil((COMMITS - commits) / MAX_BATCH_EVENTS);
const refusalBatches = Math.ceil(REJECTIONS / MAX_BATCH_EVENTS);
const every = Math.max(1, Math.floor(commitBatches / refusalBatches));
for (let b = 0; commits < COMMITS || rejected < REJECTIONS; b++) {
  if (commits < COMMITS) {
    const { who, events } = nextCommits(Math.min(MAX_BATCH_EVENTS, COMMITS - commits));
    await commit(who, events);
    commits += events.length;
  }
  // Refusals only once projects were edited (a stale edit needs a project past its first version).
  if (rejected < REJECTIONS && edit > 0 && (b % every === every - 1 || commits >= COMMITS)) {
    const verdicts = await push("stale", nextRefusals(Math.min(MAX_BATCH_EVENTS, REJECTIONS - rejected)));
    for (const v of verdicts) {
      if (v.status === "confirmed") throw new Error(`seeding: a stale edit was committed: ${JSON.stringify(v).slice(0, 300)}`);
      codes[v.code] = (codes[v.code] ?? 0) + 1;
      rejected++;
    }
  }
}
const seedS = round((performance.now() - seedStarted) / 1000);
const rssSeedPeak = seedSampler.stop();
console.log(`seeded ${commits.toLocaleString("en-US")} commits and ${rejected.toLocaleString("en-US")} rejections (${JSON.stringify(codes)}) in ${seedS} s`);

// ───────────────────────────── the bare baseline ─────────────────────────────

async function seedBaseline(records: number): Promise<void> {
  const url = new URL(`/baseline/${branch}/sync`, server.url);
  url.protocol = "ws:";
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
  const record = { title: "Shoot", client: "Perera", notes: "a record of about the size of a project's summary row" };
  for (let done = 0; done < records; done += MAX_BATCH_EVENTS) {
    const acked = new Promise<void>((resolve) => ws.once("message", () => resolve()));
    ws.send(JSON.stringify({ type: "push", batch_id: String(done), records: Array.from({ length: Math.min(MAX_BATCH_EVENTS, records - done) }, () => record) }));
    await acked;
  }
  ws.close();
}
await seedBaseline(COMMITS);
// Both Durable Objects just wrote 100,000 rows: let their writes settle before anything is timed.
await new Promise((resolve) => setTimeout(resolve, 3_000));

// ───────────────────────────── the reads ─────────────────────────────

interface Timed {
  route: string;
  page: string;
  median_ms: number;
  p95_ms: number;
  bytes: number;
  status: number;
}

async function time(route: string, page: string, url: URL, auth: boolean): Promise<Timed> {
  const ms: number[] = [];
  let bytes = 0;
  let status = 0;
  // One request first, not counted: the route's code and statements warm, as on a dashboard in use.
  for (let i = -1; i < REPEATS; i++) {
    const started = performance.now();
    const response = await fetch(url, auth ? { headers: { Authorization: `Bearer ${tokens.viewer}` } } : {});
    const body = await response.text();
    if (i >= 0) ms.push(performance.now() - started);
    bytes = body.length;
    status = response.status;
    if (!response.ok) throw new Error(`${route} (${page}): HTTP ${response.status} ${body.slice(0, 300)}`);
  }
  return { route, page, median_ms: round(percentile(ms, 50)), p95_ms: round(percentile(ms, 95)), bytes, status };
}

const get = async <T>(route: string): Promise<T> => {
  const response = await fetch(api(route), { headers: { Authorization: `Bearer ${tokens.viewer}` } });
  if (!response.ok) throw new Error(`${route}: HTTP ${response.status} ${(await response.text()).slice(0, 300)}`);
  return (await response.json()) as T;
};

const rssBefore = workerdRssMb();
const sampler = sampleWorkerdPeak();
const figures: Timed[] = [];
const dash = (route: string) => api(`dashboard/${route}`);

// Deep pages: where the first page says the last page is.
const first = await get<{ rejections: Array<{ id: number; event_id: string; depends_on: string | null }>; total: number }>("dashboard/rejections?limit=50");
const deepBefore = Math.max(2, first.rejections[0]!.id - first.total + 50);
const oldest = await get<{ rejections: Array<{ id: number; event_id: string; depends_on: string | null }> }>(`dashboard/rejections?limit=50&before=${deepBefore}`);
const chained = oldest.rejections.find((r) => r.depends_on !== null) ?? oldest.rejections.at(-1)!;
const audit = await get<{ entries: Array<{ id: number }> }>("dashboard/audit?limit=50");
const auditHead = audit.entries[0]?.id ?? 1;
const history = await get<{ versions: Array<{ seq: number }> }>(`dashboard/entities/${hot}/history?limit=50`);
const hotHeadSeq = history.versions[0]?.seq ?? 1;

figures.push(await time("devices", "all", dash("devices"), true));
figures.push(await time("rejections", "first", dash("rejections?limit=50"), true));
figures.push(await time("rejections", "deep", dash(`rejections?limit=50&before=${deepBefore}`), true));
figures.push(await time("rejections ?code=version_conflict", "first", dash("rejections?limit=50&code=version_conflict"), true));
figures.push(await time("rejections ?device=", "deep", dash(`rejections?limit=50&device=${DEVICES.stale}&before=${deepBefore}`), true));
figures.push(await time("rejections/timeline", "whole seeding", dash(`rejections/timeline?from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}&to=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`), true));
figures.push(await time("rejections/:eventId", "newest", dash(`rejections/${first.rejections[0]!.event_id}`), true));
figures.push(await time("rejections/:eventId", "oldest, in a chain", dash(`rejections/${chained.event_id}`), true));
figures.push(await time("entities/:id/history", "first", dash(`entities/${hot}/history?limit=50`), true));
figures.push(await time("entities/:id/history", "deep", dash(`entities/${hot}/history?limit=50&before_seq=${Math.max(2, hotHeadSeq - Math.floor(hotHeadSeq * 0.95))}`), true));
figures.push(await time("money", "60 days", dash("money?from=2026-10-01&to=2026-11-29"), true));
figures.push(await time("money", "92 days", dash("money?from=2026-09-01&to=2026-12-01"), true));
figures.push(await time("audit", "first", dash("audit?limit=50"), true));
figures.push(await time("audit", "deep", dash(`audit?limit=50&before=${Math.max(2, Math.floor(auditHead / 20))}`), true));
const baseline = [
  await time("baseline: 50 records", "first", new URL(`/baseline/${branch}/changes?since=0&limit=50`, server.url), false),
  await time("baseline: 50 records", "deep", new URL(`/baseline/${branch}/changes?since=${COMMITS - 50}&limit=50`, server.url), false),
];
const rssPeak = sampler.stop();
const rssAfter = workerdRssMb();
await server.stop();

const result = {
  benchmark: "dashboard",
  quick,
  commits,
  rejections: rejected,
  rejection_codes: codes,
  sales: sales.length,
  voids: voided,
  hot_project_versions: versions.get(hot),
  audit_entries: auditHead,
  seed_s: seedS,
  repeats: REPEATS,
  routes: figures,
  baseline,
  workerd_rss_mb: { idle: rssIdle, peak_during_seeding: rssSeedPeak, before_reads: rssBefore, peak_during_reads: rssPeak, after_reads: rssAfter },
  at: new Date().toISOString(),
};
console.log(`\n${"route".padEnd(36)} ${"page".padEnd(20)} ${"median".padStart(8)} ${"p95".padStart(8)} ${"bytes".padStart(8)}`);
for (const r of [...figures, ...baseline]) console.log(`${r.route.padEnd(36)} ${r.page.padEnd(20)} ${`${r.median_ms} ms`.padStart(8)} ${`${r.p95_ms} ms`.padStart(8)} ${String(r.bytes).padStart(8)}`);
console.log(`workerd RSS: ${rssIdle} MB idle, peak ${rssSeedPeak} MB while seeding, ${rssBefore} MB before the reads, peak ${rssPeak} MB during, ${rssAfter} MB after → bench/results/dashboard.json`);
const dir = path.resolve(import.meta.dirname, "results");
mkdirSync(dir, { recursive: true });
writeFileSync(path.join(dir, "dashboard.json"), JSON.stringify(result, null, 2));
