/**
 * Verdict amplification (issue 12, I12): can one device's small pushes make the branch send
 * megabytes and make an honest device wait? A viewer pushes batches of 10 updates that all name one
 * ~4.8 MB project (every one is refused: permission_denied, or depends_on_rejected for the half that
 * build on an edit refused in the push before), as fast as its verdicts come back,
 * while a manager pushes batches of 10 sales one at a time. Measured: the manager's push → verdicts
 * latency without and with the attack, the attacker's bytes sent and received per push, and
 * workerd's peak RSS. The bare baseline of this run is the idle phase on the same server.
 *
 *   npx tsx bench/attack.ts [--quick]
 *
 * Results: printed, and bench/results/attack.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { MAX_BATCH_EVENTS, splitIntoChunks } from "../protocol/index.js";
import { type TransferId } from "../domain/index.js";
import { makeEventFactory } from "../test/support/events.js";
import { NodeClient, startServer } from "../test/support/server.js";
import { round, summary } from "./lib/stats.js";
import { sampleWorkerdPeak } from "./workerd-memory.js";

const quick = process.argv.includes("--quick");
const HONEST_PUSHES = quick ? 15 : 40;
const MANAGER = "01936f3c-0000-7000-8000-00000000a001";
const VIEWER = "01936f3c-0000-7000-8000-00000000a002";
const OWNER = "01936f3c-0000-7000-8000-00000000a003";

const server = await startServer();
const f = makeEventFactory(99);
const branch = `attack-${Date.now().toString(36)}`;
try {
  // The large project: 20,000 selected photos, about 4.8 MB of JSON, sent in chunks.
  const owner = await NodeClient.open(server, branch, OWNER, "owner");
  const items = Array.from({ length: 20_000 }, (_, i) => ({
    sha256: (i * 7919).toString(16).padStart(64, "a"),
    file_name: `DSC_${String(i).padStart(5, "0")}_wedding_ceremony_second_shooter.NEF`,
    size_bytes: 24_000_000 + i,
    note: i % 5 === 0 ? "client favourite: retouch skin, keep the veil detail" : null,
  }));
  const base = f.createProject(OWNER);
  const project = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
  const text = JSON.stringify({ type: "push", batch_id: f.nextId(), events: [project] });
  for (const chunk of await splitIntoChunks(text, f.nextId() as TransferId)) owner.send(chunk);
  const created = await owner.next("verdicts", 60_000);
  if (created.verdicts[0]?.status !== "confirmed") throw new Error(`the project was refused: ${JSON.stringify(created.verdicts[0]).slice(0, 300)}`);
  const projectBytes = Buffer.byteLength(JSON.stringify(project.payload));
  owner.close();

  const manager = await NodeClient.open(server, branch, MANAGER, "manager");
  const honestPush = async () => {
    const events = Array.from({ length: 10 }, () => f.sale(MANAGER));
    const started = performance.now();
    manager.send({ type: "push", batch_id: f.nextId(), events });
    const { verdicts } = await manager.next("verdicts", 120_000);
    if (verdicts.some((v) => v.status !== "confirmed")) throw new Error("an honest sale was refused");
    return performance.now() - started;
  };
  const idle: number[] = [];
  for (let i = 0; i < HONEST_PUSHES; i++) idle.push(await honestPush());

  const viewer = await NodeClient.open(server, branch, VIEWER, "viewer");
  let received = 0;
  viewer.ws.on("message", (data: Buffer) => (received += data.length));
  let attacking = true;
  let attackPushes = 0;
  let attackSent = 0;
  let refused: string | null = null;
  const attack = (async () => {
    while (attacking) {
      // Half of them build on an edit refused in the push before (depends_on_rejected), the other
      // half are refused for permission: the two routes a viewer has to name the project.
      const events = Array.from({ length: 10 }, (_, i) =>
        i % 2 === 1 && refused !== null
          ? f.updateProject(VIEWER, project.entity_id, { notes: `mine ${i}` }, { dep: refused })
          : f.updateProject(VIEWER, project.entity_id, { title: `mine ${i}` }, { base: 1 }),
      );
      refused = events[0]!.id;
      const frame = JSON.stringify({ type: "push", batch_id: f.nextId(), events });
      attackSent += Buffer.byteLength(frame);
      viewer.ws.send(frame);
      // Each verdict is read (and its bytes counted) before the next push.
      let left = events.length;
      while (left > 0) left -= (await viewer.next("verdicts", 120_000)).verdicts.length;
      attackPushes++;
    }
  })();
  const sampler = sampleWorkerdPeak();
  await new Promise((r) => setTimeout(r, 500)); // let the attack get going
  const underAttack: number[] = [];
  for (let i = 0; i < HONEST_PUSHES; i++) underAttack.push(await honestPush());
  attacking = false;
  await attack;
  const workerdPeakMb = sampler.stop();
  viewer.close();
  manager.close();

  const result = {
    quick,
    project_bytes: projectBytes,
    honest_push_ms_idle: summary(idle),
    honest_push_ms_under_attack: summary(underAttack),
    attack_pushes: attackPushes,
    attack_bytes_sent_per_push: round(attackSent / Math.max(1, attackPushes), 0),
    attack_bytes_received_per_push: round(received / Math.max(1, attackPushes), 0),
    amplification: round(received / Math.max(1, attackSent), 2),
    workerd_peak_mb: workerdPeakMb,
    max_batch_events: MAX_BATCH_EVENTS,
  };
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `honest push p50 ${result.honest_push_ms_idle.median} ms idle → ${result.honest_push_ms_under_attack.median} ms under attack (p99 ${result.honest_push_ms_idle.p99} → ${result.honest_push_ms_under_attack.p99}); ` +
      `attacker received ${result.attack_bytes_received_per_push} bytes per ${result.attack_bytes_sent_per_push}-byte push (×${result.amplification}); workerd peak ${workerdPeakMb} MB`,
  );
  const dir = path.resolve(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "attack.json"), JSON.stringify(result, null, 2));
} finally {
  await server.stop();
}
