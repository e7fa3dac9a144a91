/**
 * Two connections on one database (issue 14, item 6): a crew's script syncing while another process
 * records. Every write transaction takes the write lock at BEGIN (IMMEDIATE), so a connection waits
 * its turn (the busy timeout) instead of failing with "database is locked".
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DEFAULT_BUSY_TIMEOUT_MS, LocalStore } from "../../../desktop/store/local-store.js";
import { deviceToken, tempDbPath } from "../../support/desktop.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";

const project = (title: string) => ({
  title,
  client: { name: "Client", email: null, phone: null },
  status: "inquiry" as const,
  starts_on: null,
  ends_on: null,
  location: null,
  package: null,
  notes: "",
  media_selection: { items: [] },
});

async function initialised(db: string, opts: Parameters<typeof LocalStore.open>[1] = {}) {
  const store = LocalStore.open(db, opts);
  const init = store.init({ server_url: "http://127.0.0.1:1", token: await deviceToken("lock-branch", A, "owner"), time_zone: "UTC" });
  if (!init.ok) throw new Error(init.error);
  return store;
}

describe("two connections on one database take turns", () => {
  it("a verdict being applied while another connection commits does not fail with 'database is locked'", async () => {
    const db = tempDbPath();
    // The clock is read inside applyVerdicts' transaction after its first read and before its first
    // write: the moment another connection's commit made a deferred transaction fail (SQLITE_BUSY_SNAPSHOT).
    let duringTransaction: (() => void) | null = null;
    const syncing = await initialised(db, {
      clockMs: () => {
        const hook = duringTransaction;
        duringTransaction = null;
        hook?.();
        return Date.UTC(2026, 10, 25, 4);
      },
    });
    const written = syncing.createProject(project("Perera wedding"));
    if (!written.ok) throw new Error(written.error.message);
    const batch = syncing.nextBatch()!;

    const recording = LocalStore.open(db, { busyTimeoutMs: 50 });
    let other: { ok: boolean; error?: string; waitedMs?: number } | null = null;
    duringTransaction = () => {
      const t0 = performance.now();
      try {
        recording.createProject(project("Silva engagement"));
        other = { ok: true };
      } catch (e) {
        // Same thread: it cannot wait for the holder to finish, so it waits its busy timeout and gives up.
        other = { ok: false, error: (e as Error).message, waitedMs: performance.now() - t0 };
      }
    };
    const event = batch.events[0]!;
    const summary = syncing.applyVerdicts(batch.batch_id, [{ event_id: event.id, status: "confirmed", seq: 1, entity_id: event.entity_id, version: 1, official_receipt_no: null, official_invoice_no: null }]);
    expect(summary).toMatchObject({ confirmed: 1 });
    // The other connection met the write lock held since BEGIN, and waited for it rather than committing under it.
    expect(other).toMatchObject({ ok: false, error: "database is locked" });
    expect(other!.waitedMs).toBeGreaterThanOrEqual(40);
    // Its turn now.
    expect(recording.createProject(project("Silva engagement")).ok).toBe(true);
    expect(syncing.queueCounts()).toMatchObject({ confirmed: 1, pending: 1 });
    recording.close();
    syncing.close();
  });

  it("the busy timeout is an open option, 5 s by default", () => {
    expect(DEFAULT_BUSY_TIMEOUT_MS).toBe(5_000);
  });

  it("two processes, one ringing up sales and one applying verdicts, both finish without an error", async () => {
    const db = tempDbPath();
    (await initialised(db)).close();
    const dir = path.dirname(db);
    const store = path.resolve(import.meta.dirname, "../../../desktop/store/local-store.ts");
    const script = path.join(dir, "worker.mts");
    writeFileSync(
      script,
      `import { LocalStore } from ${JSON.stringify(store)};
const [db, role] = process.argv.slice(2);
const s = LocalStore.open(db);
let seq = 0;
for (let i = 0; i < 400; i++) {
  if (role === "till") {
    const r = s.posSale({ currency: "LKR", lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null });
    if (!r.ok) throw new Error(r.error.message);
  } else {
    const b = s.nextBatch(5);
    if (b) s.applyVerdicts(b.batch_id, b.events.map((e) => ({ event_id: e.id, status: "confirmed", seq: ++seq, entity_id: e.entity_id, version: 1, official_receipt_no: seq, official_invoice_no: null })));
  }
}
s.close();
`,
    );
    const runOne = (role: string) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", script, db, role], { cwd: path.resolve(import.meta.dirname, "../../.."), stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        child.on("close", (code) => resolve({ code, stderr }));
      });
    const [till, sync] = await Promise.all([runOne("till"), runOne("sync")]);
    expect(till.stderr).not.toMatch(/locked/);
    expect(sync.stderr).not.toMatch(/locked/);
    expect([till.code, sync.code]).toEqual([0, 0]);
    const check = LocalStore.open(db);
    const counts = check.queueCounts();
    expect(counts.pending + counts.sent + counts.confirmed).toBe(400);
    check.close();
  }, 60_000);
});
