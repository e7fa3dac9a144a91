/**
 * Compaction (issue 18): a branch's SQLite storage after N commits with compaction on, against the
 * same branch without. The branch core runs directly on the Node SQLite adapter (better-sqlite3 on a
 * file, durable/adapters/node-sqlite.ts): the same SQL as the Durable Object's, without the network,
 * so a million commits take minutes.
 *
 * Workload: ENTITIES projects created, then edited round-robin (each edit a new version of about
 * 0.8 KB of JSON, its notes changed), and a POS sale every SALE_EVERY commits (POS is never compacted, I6); batches of
 * MAX_BATCH_EVENTS; the clock moves COMMIT_MS per commit (10,000 commits a day; 2,880 with --quick, so
 * that its 200,000 commits span more than the 30 days compaction keeps). With compaction on,
 * a base snapshot is taken every SNAPSHOT_EVERY_COMMITS commits (its seq recorded, as the alarm's
 * export would; no R2 here) and the compaction it allows runs to the end, in slices, as the alarm
 * would, with the production settings (core/compaction.ts): the newest 100,000 commits and the last
 * 30 days stay. Storage is the database file (page_count × page_size after a WAL checkpoint) and the
 * pages in use (minus the freelist, which later commits reuse).
 *
 *   npx tsx bench/compaction.ts [--quick] [--commits N]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { nodeSqlStore } from "../durable/adapters/node-sqlite.js";
import { BranchCore } from "../durable/core/branch.js";
import { COMPACTION_RETAIN_COMMITS, COMPACTION_RETAIN_MS, LAST_BASE_SNAPSHOT } from "../durable/core/compaction.js";
import { SNAPSHOT_EVERY_COMMITS } from "../durable/core/snapshot-schedule.js";
import type { BranchId, DeviceId, SyncEvent, UserId } from "../domain/index.js";
import { MAX_BATCH_EVENTS } from "../protocol/index.js";
import { makeEventFactory } from "../test/support/events.js";

const quick = process.argv.includes("--quick");
const commitsArg = process.argv.indexOf("--commits");
const COMMITS = commitsArg > 0 ? Number(process.argv[commitsArg + 1]) : quick ? 200_000 : 1_000_000;
const ENTITIES = 20_000;
const SALE_EVERY = 50;
const COMMIT_MS = quick ? 30_000 : 8_640; // 2,880 or 10,000 commits a day
const DEVICE = "01936f3c-0000-7000-8000-0000000000a1";
const T0 = Date.UTC(2026, 0, 1);
const NOTE = "Client asked for warmer tones on the family portraits; retouch skin, lift shadows, crop 4:5 for print. ";

interface Storage {
  file_mb: number;
  in_use_mb: number;
  changes: number;
  entity_versions: number;
  compacted_verdicts: number;
}

function storageOf(sql: ReturnType<typeof nodeSqlStore>): Storage {
  sql.one("PRAGMA wal_checkpoint(TRUNCATE)");
  const n = (q: string) => Number(Object.values(sql.one<Record<string, number>>(q)!)[0]);
  const pageSize = n("PRAGMA page_size");
  const mb = (pages: number) => Math.round(((pages * pageSize) / 1024 / 1024) * 10) / 10;
  const pages = n("PRAGMA page_count");
  const free = n("PRAGMA freelist_count");
  return {
    file_mb: mb(pages),
    in_use_mb: mb(pages - free),
    changes: n("SELECT COUNT(*) FROM changes"),
    entity_versions: n("SELECT COUNT(*) FROM entity_versions"),
    compacted_verdicts: n("SELECT COUNT(*) FROM compacted_verdicts"),
  };
}

function run(dir: string, compaction: boolean) {
  const sql = nodeSqlStore(path.join(dir, `${compaction ? "on" : "off"}.sqlite`));
  let nowMs = T0;
  const core = new BranchCore(sql, "bench-compaction" as BranchId, () => nowMs, { defaultTimeZone: "UTC" });
  const actor = { device_id: DEVICE as DeviceId, user_id: "bench" as UserId, role: "owner" as const };
  const f = makeEventFactory(18);
  const ids: string[] = [];
  const versions = new Map<string, number>();
  let committed = 0;
  let compactionMs = 0;
  let slices = 0;
  let nextSnapshot = SNAPSHOT_EVERY_COMMITS;
  const checkpoints: Array<{ commits: number } & Storage> = [];
  const started = performance.now();
  while (committed < COMMITS) {
    const batch: SyncEvent[] = [];
    for (let i = 0; i < MAX_BATCH_EVENTS && committed + batch.length < COMMITS; i++) {
      const n = committed + batch.length;
      if (n % SALE_EVERY === SALE_EVERY - 1) {
        batch.push(f.sale(DEVICE, undefined, `T1-${n}`, 1_000 + (n % 977)));
      } else if (ids.length < ENTITIES) {
        const e = f.createProject(DEVICE, undefined, `Shoot ${ids.length}`);
        ids.push(e.entity_id);
        versions.set(e.entity_id, 1);
        batch.push(e);
      } else {
        const id = ids[n % ENTITIES]!;
        const base = versions.get(id)!;
        // One edit per entity per batch: its base is the version before it.
        if (batch.some((e) => e.entity_id === id)) break;
        batch.push(f.updateProject(DEVICE, id, { notes: `${NOTE}(${n})` }, { base }));
        versions.set(id, base + 1);
      }
    }
    const verdicts = core.push(actor, batch).verdicts;
    const refused = verdicts.find((v) => v.status !== "confirmed");
    if (refused) throw new Error(`an event was refused: ${JSON.stringify(refused).slice(0, 300)}`);
    committed += batch.length;
    nowMs += batch.length * COMMIT_MS;
    if (compaction && committed >= nextSnapshot) {
      nextSnapshot += SNAPSHOT_EVERY_COMMITS;
      // The alarm's export records its seq; compaction then runs in slices to the end of its pass.
      core.setMeta(LAST_BASE_SNAPSHOT, { seq: core.head(), at_ms: nowMs });
      const t = performance.now();
      if (core.compactionDue()) for (let done = false; !done; slices++) done = core.compactSlice().finished;
      compactionMs += performance.now() - t;
    }
    if (committed % 100_000 < MAX_BATCH_EVENTS && committed >= 100_000) {
      checkpoints.push({ commits: committed, ...storageOf(sql) });
      const last = checkpoints.at(-1)!;
      console.log(`  compaction ${compaction ? "on " : "off"}: ${committed.toLocaleString("en")} commits, file ${last.file_mb} MB, in use ${last.in_use_mb} MB, ${last.changes.toLocaleString("en")} log rows (${Math.round((performance.now() - started) / 1000)} s)`);
    }
  }
  const end = storageOf(sql);
  const result = {
    compaction,
    commits: committed,
    head: core.head(),
    compacted_through: core.compactedThrough(),
    ...end,
    run_s: Math.round((performance.now() - started) / 100) / 10,
    compaction_s: Math.round(compactionMs / 100) / 10,
    compaction_slices: slices,
    checkpoints,
  };
  sql.close();
  return result;
}

const dir = mkdtempSync(path.join(tmpdir(), "sv-bench-compaction-"));
try {
  console.log(`compaction bench: ${COMMITS.toLocaleString("en")} commits on ${ENTITIES.toLocaleString("en")} projects (a POS sale every ${SALE_EVERY}), retention ${COMPACTION_RETAIN_COMMITS.toLocaleString("en")} commits and ${COMPACTION_RETAIN_MS / 86_400_000} days, a base snapshot every ${SNAPSHOT_EVERY_COMMITS.toLocaleString("en")} commits`);
  const off = run(dir, false);
  const on = run(dir, true);
  const summary = {
    benchmark: "compaction-storage",
    quick,
    commits: COMMITS,
    entities: ENTITIES,
    commit_ms: COMMIT_MS,
    retain_commits: COMPACTION_RETAIN_COMMITS,
    retain_days: COMPACTION_RETAIN_MS / 86_400_000,
    off,
    on,
    file_ratio: Math.round((on.file_mb / off.file_mb) * 1000) / 1000,
    in_use_ratio: Math.round((on.in_use_mb / off.in_use_mb) * 1000) / 1000,
    at: new Date().toISOString(),
  };
  console.log(
    `\n${COMMITS.toLocaleString("en")} commits: without compaction ${off.file_mb} MB (${off.changes.toLocaleString("en")} log rows, ${off.entity_versions.toLocaleString("en")} versions); ` +
      `with compaction ${on.file_mb} MB file, ${on.in_use_mb} MB in use (${on.changes.toLocaleString("en")} log rows, ${on.entity_versions.toLocaleString("en")} versions, ${on.compacted_verdicts.toLocaleString("en")} exactly-once records), compacted through seq ${on.compacted_through.toLocaleString("en")}; ` +
      `${Math.round(summary.in_use_ratio * 100)}% of the bytes in use; compaction took ${on.compaction_s} s in ${on.compaction_slices} slices`,
  );
  mkdirSync("bench/results", { recursive: true });
  writeFileSync(`bench/results/compaction${quick ? "-quick" : ""}.json`, `${JSON.stringify(summary, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
