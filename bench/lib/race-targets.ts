/**
 * Issue 16's targets for the race (bench/race.ts), judged from its figures: pure, so the report
 * (bench/report.ts) prints them and a test checks the arithmetic. Targets are stated once here and
 * never loosened; a miss says by how much.
 */

/** The systems of the race, in the order they run and are printed. */
export const RACE_SYSTEMS = ["bare", "bare-local", "yjs", "tinybase", "protocol", "app"] as const;
export type RaceSystem = (typeof RACE_SYSTEMS)[number];

export const RACE_LABELS: Record<RaceSystem, string> = {
  bare: "bare Durable Object + SQLite, no validation",
  "bare-local": "bare DO, client also writes a local SQLite file",
  yjs: "Yjs on partyserver (50/250 ms save debounce)",
  tinybase: "TinyBase Durable Object synchronizer",
  protocol: "StudioVault, a bare client speaking docs/protocol.md",
  app: "StudioVault, the app's LocalStore + SyncEngine",
};

/** Medians over the repetitions of one system (ms, s, MB), as bench/results/race.json keeps them. */
export interface RaceFigures {
  durable_ms: number;
  b_has_all_ms: number;
  c_has_all_ms: number;
  workerd_cpu_s: number;
  workerd_cpu_us_per_event: number;
  workerd_peak_mb: number;
}

/**
 * CPU time of the race's parts (ms, medians over the repetitions): device A from its first write to
 * its writes durable, workerd over the same span, device B from A's first write until it has all, and
 * cold C from its start until it has all (bench/race.ts).
 */
export interface RaceCpu {
  a_until_durable: number;
  workerd_until_durable: number;
  b_until_has_all: number;
  c_join: number;
}

/**
 * How much of the machine the processes that take part kept busy until A's writes were durable: their
 * CPU time over what `cores` cores give in that time. Near 1, a system is bound by CPU, and its time
 * falls only with its CPU time; far below, it waits. B counts until it has all, a little past A's
 * durable point (where B lags), so a lagging B reads a little high.
 */
export function busyShare(cpu: RaceCpu, cores: number, durableMs: number): number {
  return (cpu.a_until_durable + cpu.workerd_until_durable + cpu.b_until_has_all) / (cores * durableMs);
}

export interface RaceCheck {
  target: string;
  measured: string;
  /** null: not measured in this run. */
  met: boolean | null;
  /** How far off, when missed. */
  miss?: string;
}

const PEERS = ["yjs", "tinybase"] as const;
const fmt = (x: number) => Math.round(x).toLocaleString("en-US");
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

/** Within `limit` × the bare baseline. */
function within(target: string, ours: number | undefined, bare: number | undefined, limit: number, unit: string): RaceCheck {
  if (ours === undefined || bare === undefined || !(bare > 0)) return { target, measured: "not measured in this run", met: null };
  const r = ratio(ours, bare);
  const measured = `${r}× (${fmt(ours)} ${unit} vs bare ${fmt(bare)} ${unit})`;
  return r <= limit ? { target, measured, met: true } : { target, measured, met: false, miss: `missed: ${r}× against ${limit}×, ${(r / limit).toFixed(1)} times the target` };
}

/** Faster than every peer measured in the same run. */
function ahead(target: string, ours: number | undefined, peers: Array<[string, number | undefined]>): RaceCheck {
  const measuredPeers = peers.filter((p): p is [string, number] => p[1] !== undefined);
  if (ours === undefined || measuredPeers.length === 0) return { target, measured: "not measured in this run", met: null };
  const measured = `${fmt(ours)} ms vs ${measuredPeers.map(([name, ms]) => `${name} ${fmt(ms)} ms`).join(", ")}`;
  const behind = measuredPeers.filter(([, ms]) => ours >= ms);
  if (behind.length === 0) return { target, measured, met: true };
  return { target, measured, met: false, miss: `missed: behind ${behind.map(([name, ms]) => `${name} by ${fmt(ours - ms)} ms (${ratio(ours, ms)}×)`).join(", ")}` };
}

function under(target: string, value: number | undefined, limit: number, unit: string, what: string): RaceCheck {
  if (value === undefined) return { target, measured: "not measured in this run", met: null };
  const measured = `${fmt(value)} ${unit} (${what})`;
  return value < limit ? { target, measured, met: true } : { target, measured, met: false, miss: `missed: ${fmt(value)} ${unit} against under ${limit} ${unit}, ${(value / limit).toFixed(1)} times the limit` };
}

export function raceChecks(figures: Partial<Record<RaceSystem, RaceFigures>>): RaceCheck[] {
  const { bare, app, protocol } = figures;
  const peers = (key: keyof RaceFigures) => PEERS.map((p): [string, number | undefined] => [p === "yjs" ? "Yjs" : "TinyBase", figures[p]?.[key]]);
  const checks: RaceCheck[] = [];
  for (const [key, what] of [
    ["durable_ms", "A's writes durable"],
    ["b_has_all_ms", "B has all"],
  ] as const) {
    checks.push(ahead(`race, app stack: ${what} ahead of every peer`, app?.[key], peers(key)));
    checks.push(within(`race, app stack: ${what} within 2× the bare baseline`, app?.[key], bare?.[key], 2, "ms"));
  }
  checks.push(within("race, app stack: cold C has all within 1.5× the bare baseline", app?.c_has_all_ms, bare?.c_has_all_ms, 1.5, "ms"));
  for (const [key, what] of [
    ["durable_ms", "A's writes durable"],
    ["b_has_all_ms", "B has all"],
    ["c_has_all_ms", "cold C has all"],
  ] as const) {
    checks.push(within(`race, bare protocol client: ${what} within 1.5× the bare baseline`, protocol?.[key], bare?.[key], 1.5, "ms"));
  }
  for (const [system, name] of [
    ["protocol", "bare protocol client"],
    ["app", "app stack"],
  ] as const) {
    checks.push(within(`race, ${name}: workerd CPU per event within 2× the bare DO's`, figures[system]?.workerd_cpu_us_per_event, bare?.workerd_cpu_us_per_event, 2, "µs"));
  }
  const ours = (["protocol", "app"] as const).filter((s) => figures[s]).map((s) => [s, figures[s]!.workerd_peak_mb] as const);
  const worst = ours.reduce<readonly [string, number] | undefined>((w, p) => (!w || p[1] > w[1] ? p : w), undefined);
  checks.push(under("race: workerd peak RSS under 200 MB (StudioVault's runs)", worst?.[1], 200, "MB", `worst: ${worst?.[0]}`));
  return checks;
}
