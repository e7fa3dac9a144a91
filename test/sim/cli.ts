/**
 * `npm run sim -- --seeds N [--from S] [--trace] [--verbose] [--strict]`
 *
 * Runs seeds S, S+1, … S+N-1 (S defaults to 1), prints progress, seeds per second and every
 * violation with its seed and the command that replays it, and exits 1 if any seed broke an
 * invariant. A violation that matches a known, reported bug (known-bugs.ts) is listed apart and does
 * not fail the run unless `--strict`. `--trace` prints each run's step-by-step trace (for one seed).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { knownBugOf } from "./known-bugs.js";
import { reproduce, runSeed } from "./run.js";

export interface CliArgs {
  seeds: number;
  from: number;
  trace: boolean;
  verbose: boolean;
  strict: boolean;
}

export function parseArgs(argv: readonly string[]): CliArgs {
  const args: CliArgs = { seeds: 100, from: 1, trace: false, verbose: false, strict: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < 0) throw new Error(`${arg} needs a whole number, received ${argv[i]}`);
      return v;
    };
    if (arg === "--seeds") args.seeds = value();
    else if (arg === "--from") args.from = value();
    else if (arg === "--trace") args.trace = true;
    else if (arg === "--verbose") args.verbose = true;
    else if (arg === "--strict") args.strict = true;
    else throw new Error(`unknown argument ${arg} (usage: npm run sim -- --seeds N [--from S] [--trace] [--verbose] [--strict])`);
  }
  return args;
}

export async function main(argv: readonly string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    return 2;
  }
  const root = mkdtempSync(path.join(tmpdir(), "sv-sim-cli-"));
  // Interrupted (Ctrl-C, a CI timeout): leave no SQLite files behind.
  const interrupted = (signal: NodeJS.Signals) => {
    rmSync(root, { recursive: true, force: true });
    process.exit(signal === "SIGINT" ? 130 : 143);
  };
  process.once("SIGINT", interrupted);
  process.once("SIGTERM", interrupted);
  const started = performance.now();
  let failed = 0;
  const known = new Map<string, number[]>();
  const totals = { writes: 0, commits: 0, rejections: 0, crashes: 0, cuts: 0, stale: 0, pipelined: 0, byVerdict: 0, deltaFrames: 0, spoiled: 0, simulatedMs: 0 };
  const days = { closes: 0, amendments: 0, seeds: 0 };
  const v9 = { seeds: 0, compacting: 0, rebootstrapping: 0, bases: 0, increments: 0, passes: 0, bootstraps: 0, reBootstraps: 0, kept: 0, fromRecord: 0, bootstrapFailures: 0 };
  const codes: Record<string, number> = {};
  const leases: Record<string, number> = {};
  try {
    for (let seed = args.from; seed < args.from + args.seeds; seed++) {
      const result = await runSeed(seed, { tempRoot: root, ...(args.trace ? { trace: (line: string) => console.log(`  ${line}`) } : {}) });
      totals.writes += result.stats.writes;
      totals.commits += result.stats.commits;
      totals.rejections += result.stats.rejections;
      for (const [code, n] of Object.entries(result.stats.rejectionCodes)) codes[code] = (codes[code] ?? 0) + n;
      for (const [outcome, n] of Object.entries(result.stats.leaseAnswers)) leases[outcome] = (leases[outcome] ?? 0) + n;
      totals.crashes += result.stats.crashes;
      totals.cuts += result.stats.cuts;
      totals.stale += result.stats.stale;
      totals.pipelined += result.stats.pipelined;
      totals.byVerdict += result.stats.byVerdict;
      totals.deltaFrames += result.stats.deltaFrames;
      totals.spoiled += result.stats.spoiled;
      totals.simulatedMs += result.stats.simulatedMs;
      const st = result.stats;
      if (result.config.snapshots) v9.seeds++;
      if (st.compactionPasses > 0) v9.compacting++;
      if (st.reBootstraps > 0) v9.rebootstrapping++;
      v9.bases += st.snapshotBases;
      v9.increments += st.snapshotIncrements;
      v9.passes += st.compactionPasses;
      v9.bootstraps += st.bootstraps;
      v9.reBootstraps += st.reBootstraps;
      v9.kept += st.keptAcrossReBootstraps;
      v9.fromRecord += st.answeredFromCompacted;
      v9.bootstrapFailures += st.bootstrapFailures;
      days.closes += st.dayCloses;
      days.amendments += st.dayAmendments;
      if (st.dayCloses > 0) days.seeds++;
      const fresh = result.violations.filter((v) => args.strict || knownBugOf(v) === null);
      for (const v of result.violations) {
        const bug = knownBugOf(v);
        if (bug && !args.strict) known.set(bug.id, [...(known.get(bug.id) ?? []), seed].filter((s, i, all) => all.indexOf(s) === i));
      }
      if (args.verbose || args.trace) console.log(`seed ${seed}: ${result.violations.length} violation(s) ${JSON.stringify(result.stats)} fingerprint ${result.fingerprint}`);
      if (fresh.length > 0) {
        failed++;
        for (const v of fresh) console.log(`VIOLATION seed ${seed} ${v.invariant}: ${v.message}\n  reproduce: ${reproduce(seed)}`);
      }
      const done = seed - args.from + 1;
      if (!args.verbose && !args.trace && done % 100 === 0) {
        const s = (performance.now() - started) / 1000;
        console.log(`${done}/${args.seeds} seeds, ${(done / s).toFixed(1)} seeds/s, ${failed} failing`);
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `${args.seeds} seeds (${args.from}..${args.from + args.seeds - 1}) in ${seconds.toFixed(1)} s: ${(args.seeds / seconds).toFixed(1)} seeds/s; ` +
      `${totals.writes} local writes, ${totals.commits} commits, ${totals.rejections} rejections, ${totals.crashes} crashes, ${totals.cuts} cuts, ` +
      `${totals.stale} frames reordered across connections, ${totals.pipelined} pushes sent behind unanswered ones, ` +
      `${totals.byVerdict} own commits taken from their verdicts (not sent back), ` +
      `${totals.deltaFrames} frames with deltas (${totals.spoiled} spoiled on the way, pulled again whole), ` +
      `${(totals.simulatedMs / 3_600_000).toFixed(1)} simulated hours`,
  );
  console.log(`server rejections by code: ${Object.entries(codes).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ") || "none"}`);
  console.log(
    `snapshots and compaction: ${v9.seeds} seeds export, ${v9.bases + v9.increments} snapshots (${v9.bases} bases, ${v9.increments} increments), ` +
      `${v9.passes} compaction passes (${v9.compacting} seeds compact), ${v9.bootstraps} new-device bootstraps, ` +
      `${v9.reBootstraps} re-bootstraps after compaction (${v9.rebootstrapping} seeds, ${v9.kept} queued events kept across them), ${v9.fromRecord} events pushed again after their commit was compacted, ${v9.bootstrapFailures} bootstrap downloads cut short`,
  );
  console.log(`end of day: ${days.closes} business days closed (${days.seeds} seeds), ${days.amendments} amendments by late POS commits`);
  console.log(`lease answers: ${Object.entries(leases).sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", ") || "none"}`);
  for (const [id, seeds] of known) {
    console.log(`known bug ${id} (not counted; --strict counts it): ${seeds.length} seed(s), e.g. ${seeds.slice(0, 5).join(", ")}`);
  }
  console.log(failed === 0 ? "no violations" : `${failed} seed(s) violated an invariant`);
  return failed === 0 ? 0 : 1;
}

// Run when executed (tsx test/sim/cli.ts), not when imported by a test.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
