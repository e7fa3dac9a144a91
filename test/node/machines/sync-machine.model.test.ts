/**
 * Model-based coverage with @xstate/graph: the machine definition is the model. We explore it with
 * representative events (concrete payloads for every SESSION.* event, every delayed event, a
 * session crash), build one path per reachable edge (shortest path to the edge's source + the
 * edge), prove the paths enter every state node and take every transition of the definition, and
 * replay each path on a real actor with a fake session and a SimulatedClock.
 */
import { adjacencyMapToArray, getAdjacencyMap, getShortestPaths, getStateNodes, type StatePath } from "@xstate/graph";
import type { AnyMachineSnapshot, AnyStateNode, AnyTransitionDefinition } from "xstate";
import { beforeAll, describe, expect, it } from "vitest";
import {
  backoffDelayMs,
  CONNECT_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_MS,
  REQUEST_TIMEOUT_MS,
  type SyncMachineEvent,
  type SyncInput,
  syncMachine,
  type SyncSnapshot,
} from "../../../machines/index.js";
import { CLOSE_CODES, closeReasonOf } from "../../../protocol/close-codes.js";
import { startSync, type Sync } from "./harness.js";

const RANDOM = () => 0.5;

/**
 * Two inputs: one starts online and unbootstrapped, one starts offline. A window of two batches in
 * flight (the app's is MAX_BATCHES_IN_FLIGHT): enough to fill it, send behind a batch, complete
 * either one first and hold a rejection while another is out, with a graph that stays small.
 */
const INPUTS: readonly SyncInput[] = [
  { online: true, needsBootstrap: true, random: RANDOM, maxBatchesInFlight: 2 },
  { online: false, needsBootstrap: false, random: RANDOM, maxBatchesInFlight: 2 },
];

const STATE_NODES: AnyStateNode[] = [syncMachine.root, ...getStateNodes(syncMachine)];

/** Every delayed transition's event, read from the definition (`xstate.after.<delay>.<state id>`). */
const DELAYED_EVENTS = [...new Set(STATE_NODES.flatMap((node) => node.after.map((t) => t.eventType)))].map((type) => ({ type }));

const DELAY_MS: Record<string, (snapshot: SyncSnapshot) => number> = {
  connectTimeout: () => CONNECT_TIMEOUT_MS,
  handshakeTimeout: () => HANDSHAKE_TIMEOUT_MS,
  requestTimeout: () => REQUEST_TIMEOUT_MS,
  heartbeat: () => HEARTBEAT_MS,
  backoff: (snapshot) => backoffDelayMs(snapshot.context.attempt, RANDOM),
};

const SESSION_CRASH = { type: "xstate.error.actor.session", error: new Error("session crashed") };

/** Close codes: abnormal, server error, and every application code (terminal or not). */
const CLOSES = [1006, 1011, ...Object.values(CLOSE_CODES)].map((code) => ({
  type: "SESSION.CLOSED" as const,
  code,
  reason: closeReasonOf(code) ?? "",
}));

/** A lease request (v7): forwarded to the session while online, changing nothing here. */
const LEASE_REQUEST = { type: "lease", request_id: "0193a000-0000-7000-8000-00000000aa01", action: "acquire", entity_id: "0193a000-0000-7000-8000-00000000bb01", group: "payment" };

const EVENTS = [
  { type: "CONNECTIVITY.ONLINE" },
  { type: "CONNECTIVITY.OFFLINE" },
  { type: "LOCAL_WRITE" },
  { type: "TOKEN_UPDATED" },
  { type: "RETRY_NOW" },
  { type: "SESSION.OPEN" },
  ...CLOSES,
  { type: "SESSION.WELCOME", head: 42 },
  { type: "SESSION.WELCOME", head: 42, historyCompacted: true },
  { type: "SESSION.HISTORY_COMPACTED" },
  { type: "SESSION.BOOTSTRAPPED" },
  { type: "SESSION.BOOTSTRAP_FAILED", message: "snapshot checksum mismatch" },
  { type: "SESSION.PAGE_APPLIED", cursor: 10, more: true },
  { type: "SESSION.PAGE_APPLIED", cursor: 42, more: false },
  { type: "SESSION.LIVE_APPLIED", cursor: 43 },
  { type: "SESSION.GAP" },
  { type: "SESSION.BATCH_SENT", batchId: "b1", events: 3, chunked: false },
  { type: "SESSION.BATCH_SENT", batchId: "b2", events: 3, chunked: false },
  { type: "SESSION.BATCH_SENT", batchId: "b3", events: 3, chunked: true },
  { type: "SESSION.QUEUE_EMPTY" },
  { type: "SESSION.VERDICTS_APPLIED", batchId: "b1", confirmed: 1, rejected: 1, complete: false },
  { type: "SESSION.VERDICTS_APPLIED", batchId: "b1", confirmed: 2, rejected: 0, complete: true },
  { type: "SESSION.VERDICTS_APPLIED", batchId: "b1", confirmed: 0, rejected: 2, complete: true },
  { type: "SESSION.VERDICTS_APPLIED", batchId: "b2", confirmed: 3, rejected: 0, complete: true },
  { type: "SESSION.VERDICTS_APPLIED", batchId: "b3", confirmed: 3, rejected: 0, complete: true },
  { type: "SESSION.VERDICTS_APPLIED", batchId: "b0", confirmed: 3, rejected: 0, complete: true }, // never ours
  { type: "SESSION.ERROR", code: "rate_limited", message: "slow down" },
  { type: "LEASE", request: LEASE_REQUEST },
  ...DELAYED_EVENTS,
  SESSION_CRASH,
] as unknown as SyncMachineEvent[];

/**
 * The abstract state: the state value plus exactly the context the guards read. Counters and
 * messages are left out, so the graph is finite.
 */
function serializeState(snapshot: SyncSnapshot): string {
  const { value, context } = snapshot;
  const inFlight = context.inFlight.map((b) => [b.batchId, b.rejected > 0, b.chunked]);
  return JSON.stringify([value, context.needsBootstrap, context.needsPull, inFlight, context.rejectedBatches.length > 0]);
}

/** A stable name for a transition of the definition, equal across `machine.provide` copies. */
function transitionKey(t: AnyTransitionDefinition): string {
  const siblings: AnyTransitionDefinition[] = t.eventType === "" ? (t.source.always ?? []) : (t.source.transitions.get(t.eventType) ?? []);
  const target = t.target?.map((node) => `#${node.id}`).join(",") ?? "(stays)";
  return `#${t.source.id} --${t.eventType || "always"}[${siblings.indexOf(t)}]--> ${target}`;
}

const ALL_TRANSITIONS = new Set(
  STATE_NODES.flatMap((node) => [...[...node.transitions.values()].flat(), ...(node.always ?? [])]).map(transitionKey),
);

interface ModelPath {
  input: SyncInput;
  path: StatePath<SyncSnapshot, SyncMachineEvent>;
}

/** One path per edge that does something: the shortest path to its source state, then the edge. */
function edgePaths(input: SyncInput): ModelPath[] {
  const options = { input, events: EVENTS, serializeState };
  const adjacency = getAdjacencyMap(syncMachine, options);
  const toState = new Map(getShortestPaths(syncMachine, options).map((p) => [serializeState(p.state), p]));
  const paths: ModelPath[] = [];
  for (const { state, event, nextState } of adjacencyMapToArray(adjacency)) {
    // Events no transition of the current state accepts are noise: skip them.
    if (syncMachine.getTransitionData(state, event).length === 0) continue;
    const head = toState.get(serializeState(state));
    if (!head) throw new Error(`no shortest path to ${serializeState(state)}`);
    const steps = [...head.steps, { event, state: nextState }];
    paths.push({ input, path: { state: nextState, weight: steps.length - 1, steps } });
  }
  return paths;
}

function perform(sync: Sync, event: SyncMachineEvent): void {
  const type: string = event.type;
  const delay = /^xstate\.after\.([^.]+)\./.exec(type)?.[1];
  if (delay !== undefined) {
    const ms = DELAY_MS[delay];
    if (!ms) throw new Error(`unknown delay ${delay}`);
    sync.clock.increment(ms(sync.actor.getSnapshot()));
  } else if (type === SESSION_CRASH.type) {
    sync.session().crash();
  } else if (type.startsWith("SESSION.")) {
    sync.report(event as Parameters<Sync["report"]>[0]);
  } else {
    sync.send(event as Parameters<Sync["send"]>[0]);
  }
}

interface Replay {
  description: string;
  mismatches: string[];
  transitions: Set<string>;
  stateNodes: Set<string>;
}

function replay({ input, path }: ModelPath): Replay {
  const transitions = new Set<string>();
  const stateNodes = new Set<string>();
  const sync = startSync({
    ...input,
    inspect: (event) => {
      if (event.type !== "@xstate.microstep") return;
      for (const t of event._transitions) {
        transitions.add(transitionKey(t));
        stateNodes.add(t.source.id); // taken while its source was active (covers the transient `start`)
      }
      for (const node of (event.snapshot as AnyMachineSnapshot)._nodes) stateNodes.add(node.id);
    },
  });
  const description = path.steps.map((s) => JSON.stringify(s.event)).join(" → ");
  const mismatches: string[] = [];
  for (const [i, step] of path.steps.entries()) {
    if (i > 0) perform(sync, step.event);
    const actual = sync.actor.getSnapshot();
    const where = `step ${i} (${step.event.type})`;
    if (JSON.stringify(actual.value) !== JSON.stringify(step.state.value)) {
      mismatches.push(`${where}: expected ${JSON.stringify(step.state.value)}, got ${JSON.stringify(actual.value)}`);
    }
    // A session runs exactly when the machine is online.
    const running = sync.running().length;
    if (running !== (actual.matches("online") ? 1 : 0)) mismatches.push(`${where}: ${running} sessions running`);
  }
  sync.actor.stop();
  return { description, mismatches, transitions, stateNodes };
}

describe("the sync machine, explored as a model with @xstate/graph", () => {
  let paths: ModelPath[];
  let replays: Replay[];

  beforeAll(() => {
    paths = INPUTS.flatMap(edgePaths);
    replays = paths.map(replay);
  });

  it("generates a path for every edge of the abstract state graph", () => {
    expect(paths.length).toBeGreaterThan(50);
  });

  it("replays every path on a real actor and lands in the state the model predicts after each step", () => {
    const failures = replays.filter((r) => r.mismatches.length > 0).map((r) => `${r.description}\n  ${r.mismatches.join("\n  ")}`);
    expect(failures).toEqual([]);
  });

  it("enters every state node of the machine", () => {
    const entered = new Set(replays.flatMap((r) => [...r.stateNodes]));
    const missing = STATE_NODES.filter((node) => node !== syncMachine.root && !entered.has(node.id)).map((n) => n.id);
    expect(missing).toEqual([]);
  });

  it("takes every transition of the machine definition", () => {
    const taken = new Set(replays.flatMap((r) => [...r.transitions]));
    const missing = [...ALL_TRANSITIONS].filter((key) => !taken.has(key));
    expect(missing).toEqual([]);
    // And nothing outside the definition (a sanity check on transitionKey).
    expect([...taken].filter((key) => !ALL_TRANSITIONS.has(key))).toEqual([]);
    expect(ALL_TRANSITIONS.size).toBeGreaterThan(35);
  });
});
