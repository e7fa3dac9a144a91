/**
 * One benchmark device, in a process of its own, so its memory and event loop are its own.
 *
 *   tsx bench/clients/device.ts ours <db-path> <server-origin> <token>
 *       the real desktop: LocalStore (a better-sqlite3 file) + SyncEngine (protocol v1 over
 *       partysocket), exactly as the app and the CLI run them
 *   tsx bench/clients/device.ts baseline <server-origin> <branch>
 *       the bare baseline's client: a `ws` socket, records kept in memory, nothing validated
 *
 * The orchestrator (bench/sync.ts) sends one JSON command per stdin line; each gets one JSON reply
 * on stdout. Times are wall-clock milliseconds (performance.timeOrigin + now()), comparable across
 * the processes of one machine. Every reply carries the longest event-loop stall seen while the
 * command ran, and the process's peak RSS so far.
 *
 * Both kinds do the same things the same way: batches of up to 200 records, up to 4 batches in flight
 * (the desktop's MAX_BATCHES_IN_FLIGHT), writes arriving 50 per macrotask when streamed, pages of
 * 1,000 when catching up.
 */
import { WebSocket } from "ws";
import type { LocalStore } from "../../desktop/store/local-store.js";
import { openBenchStore } from "../lib/app-store.js";
import { SyncEngine } from "../../desktop/sync/engine.js";
import { MAX_BATCHES_IN_FLIGHT } from "../../machines/index.js";
import type { Change } from "../../protocol/index.js";
import { benchProject } from "../lib/payload.js";
import { serveCommands } from "../lib/serve.js";
import { Waiters } from "../lib/waiters.js";

export type Command =
  | { cmd: "queue"; n: number }
  | { cmd: "flush" }
  | { cmd: "online" }
  | { cmd: "offline" }
  | { cmd: "stream"; n: number }
  | { cmd: "expect"; n: number }
  | { cmd: "singles"; n: number; gap_ms: number }
  | { cmd: "track" }
  | { cmd: "tracked" }
  | { cmd: "catchup"; head: number }
  | { cmd: "exit" };

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tick = () => new Promise((r) => setImmediate(r));
const BATCH = 200;
const STREAM_CHUNK = 50;
const PAGE = 1_000;

interface Device {
  queue(n: number): Promise<void>;
  /** Go online and push everything queued; resolves when every verdict (ack) is back. */
  flush(): Promise<{ start: number; end: number }>;
  /** Connect and catch up. */
  online(): Promise<void>;
  offline(): Promise<void>;
  stream(n: number): Promise<{ first_at: number }>;
  /** Resolves when n more changes from other devices have been applied. */
  expect(n: number): Promise<{ at: number }>;
  singles(n: number, gapMs: number): Promise<Array<[string, number]>>;
  track(): void;
  tracked(): Record<string, number>;
  catchup(head: number): Promise<{ start: number; end: number }>;
  close(): void;
}

/** What both kinds do the same way: writing, streaming, single writes, counting what arrives. */
abstract class BenchDevice implements Device {
  protected readonly w = new Waiters();
  protected index = 0;
  #applied = 0;
  #tracking: Map<string, number> | null = null;

  /** One local write (ours) or record (baseline); returns its entity id. */
  protected abstract writeOne(): string;
  /** Tells the sync side that writes are waiting. */
  protected abstract afterWrites(): void;
  abstract flush(): Promise<{ start: number; end: number }>;
  abstract online(): Promise<void>;
  abstract offline(): Promise<void>;
  abstract catchup(head: number): Promise<{ start: number; end: number }>;
  abstract close(): void;

  /** Entities written by other devices, applied (or received) now. */
  protected received(entityIds: readonly string[]): void {
    const at = now();
    this.#applied += entityIds.length;
    if (this.#tracking) for (const id of entityIds) this.#tracking.set(id, at);
    this.w.poke();
  }

  async queue(n: number) {
    for (let i = 0; i < n; i++) this.writeOne();
  }
  async stream(n: number) {
    const first_at = now();
    for (let done = 0; done < n; ) {
      for (const end = Math.min(n, done + STREAM_CHUNK); done < end; done++) this.writeOne();
      this.afterWrites();
      await tick();
    }
    return { first_at };
  }
  async expect(n: number) {
    const target = this.#applied + n;
    await this.w.wait(() => this.#applied >= target);
    return { at: now() };
  }
  async singles(n: number, gapMs: number) {
    const writes: Array<[string, number]> = [];
    for (let i = 0; i < n; i++) {
      const at = now();
      writes.push([this.writeOne(), at]);
      this.afterWrites();
      await sleep(gapMs);
    }
    return writes;
  }
  track() {
    this.#tracking = new Map();
  }
  tracked() {
    return Object.fromEntries(this.#tracking ?? []);
  }
}

class Ours extends BenchDevice {
  readonly store: LocalStore;
  readonly engine: SyncEngine;

  constructor(db: string, server: string, token: string) {
    super();
    const { store, deviceId: mine } = openBenchStore(db, server, token);
    this.store = store;
    this.engine = new SyncEngine({
      store: this.store,
      onChanges: (changes: readonly Change[]) => this.received(changes.filter((c) => c.device_id !== mine).map((c) => c.entity_id)),
    });
    this.engine.subscribe(() => this.w.poke());
    this.engine.start(false);
  }

  protected writeOne(): string {
    const outcome = this.store.createProject(benchProject(this.index++));
    if (!outcome.ok) throw new Error(outcome.error.message);
    return outcome.value.entity.entity_id;
  }
  protected afterWrites() {
    this.engine.notifyWrite();
  }

  #live = () => this.engine.status().kind === "live";

  async flush() {
    const start = now();
    this.engine.setOnline(true);
    await this.w.wait(() => this.#live() && this.store.summary().pending === 0);
    return { start, end: now() };
  }
  async online() {
    this.engine.setOnline(true);
    await this.w.wait(this.#live);
  }
  async offline() {
    this.engine.setOnline(false);
    await this.w.wait(() => this.engine.status().kind === "offline");
  }
  async catchup(head: number) {
    const start = now();
    this.engine.setOnline(true);
    await this.w.wait(() => this.store.cursor() >= head);
    return { start, end: now() };
  }
  close() {
    this.engine.stop();
    this.store.close();
  }
}

type BaselineMessage = { type: "ack"; batch_id: string; head: number } | { type: "live" | "changes"; changes: Array<{ seq: number; record: { entity_id: string } }>; more?: boolean };

class Baseline extends BenchDevice {
  #ws: WebSocket | null = null;
  #outbox: unknown[] = [];
  /** Batches sent and not yet acked; at most MAX_BATCHES_IN_FLIGHT, as the desktop. */
  #inFlight = 0;
  #cursor = 0;
  #pulling = false;

  constructor(
    readonly server: string,
    readonly branch: string,
  ) {
    super();
  }

  protected writeOne(): string {
    const entity_id = crypto.randomUUID();
    this.#outbox.push({ id: crypto.randomUUID(), entity_id, payload: benchProject(this.index++) });
    return entity_id;
  }
  protected afterWrites() {
    this.#pump();
  }

  async #connect(): Promise<void> {
    if (this.#ws) return;
    const url = new URL(`/baseline/${this.branch}/sync`, this.server);
    url.protocol = "ws:";
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    ws.on("message", (data) => this.#message(JSON.parse(String(data)) as BaselineMessage));
    this.#ws = ws;
  }

  #message(m: BaselineMessage) {
    if (m.type === "ack") {
      this.#inFlight--;
      this.#pump();
      this.w.poke();
      return;
    }
    const last = m.changes.at(-1);
    if (last) this.#cursor = last.seq;
    if (m.type === "changes") {
      this.#pulling = m.more === true;
      if (this.#pulling) this.#pull();
    }
    this.received(m.changes.map((c) => c.record.entity_id));
  }

  #pump() {
    while (this.#inFlight < MAX_BATCHES_IN_FLIGHT && this.#outbox.length > 0 && this.#ws) {
      this.#inFlight++;
      this.#ws.send(JSON.stringify({ type: "push", batch_id: crypto.randomUUID(), records: this.#outbox.splice(0, BATCH) }));
    }
  }

  #pull() {
    this.#pulling = true;
    this.#ws!.send(JSON.stringify({ type: "pull", since: this.#cursor, limit: PAGE }));
  }

  async flush() {
    const start = now();
    await this.#connect();
    this.#pump();
    await this.w.wait(() => this.#outbox.length === 0 && this.#inFlight === 0);
    return { start, end: now() };
  }
  async online() {
    await this.#connect();
    this.#pull();
    await this.w.wait(() => !this.#pulling);
  }
  async offline() {
    this.#ws?.close();
    this.#ws = null;
  }
  async catchup(head: number) {
    const start = now();
    await this.#connect();
    this.#pull();
    await this.w.wait(() => this.#cursor >= head);
    return { start, end: now() };
  }
  close() {
    this.#ws?.close();
  }
}

async function main() {
  const [kind, ...args] = process.argv.slice(2);
  const device: Device = kind === "ours" ? new Ours(args[0]!, args[1]!, args[2]!) : kind === "baseline" ? new Baseline(args[0]!, args[1]!) : (() => {
    throw new Error(`usage: device.ts ours <db> <server> <token> | baseline <server> <branch>`);
  })();
  await serveCommands<Command>(async (c) => {
    switch (c.cmd) {
      case "queue":
        return { done: await device.queue(c.n) };
      case "flush":
        return device.flush();
      case "online":
        return { done: await device.online() };
      case "offline":
        return { done: await device.offline() };
      case "stream":
        return device.stream(c.n);
      case "expect":
        return device.expect(c.n);
      case "singles":
        return { writes: await device.singles(c.n, c.gap_ms) };
      case "track":
        return { done: device.track() };
      case "tracked":
        return { applied: device.tracked() };
      case "catchup":
        return device.catchup(c.head);
      case "exit":
        return {}; // serveCommands closes the device and ends the process
    }
  }, () => device.close());
}

await main();
