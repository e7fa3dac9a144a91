/**
 * The real session's socket to the in-memory branch room (memory-room.ts), and timers that fire
 * only when a test moves them: for tests of what a desktop sends and when, on fake time.
 */
import { LocalStore } from "../../desktop/store/local-store.js";
import { SyncEngine } from "../../desktop/sync/engine.js";
import type { OpenSocket } from "../../desktop/sync/transport.js";
import type { ClientMessage, ServerMessage } from "../../protocol/index.js";
import { DEVICES } from "./branch.js";
import { deviceToken, tempDbPath } from "./desktop.js";
import { makeRoom } from "./memory-room.js";

/** setTimeout/setInterval that fire only when the test advances them; `now` is their clock (ms). */
export class ManualTimers {
  #now = 0;
  #next = 1;
  readonly #due = new Map<number, { at: number; fn: () => void; everyMs: number | null }>();
  get now(): number {
    return this.#now;
  }
  setTimeout = (fn: () => void, ms: number): unknown => this.#add(fn, ms, null);
  clearTimeout = (handle: unknown): void => void this.#due.delete(handle as number);
  setInterval = (fn: () => void, ms: number): unknown => this.#add(fn, ms, ms);
  clearInterval = (handle: unknown): void => void this.#due.delete(handle as number);

  #add(fn: () => void, ms: number, everyMs: number | null): number {
    const id = this.#next++;
    this.#due.set(id, { at: this.#now + ms, fn, everyMs });
    return id;
  }

  /** Moves time forward by `ms`, firing what falls due in order, letting queued work run after each. */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      const [id, timer] = [...this.#due].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0] ?? [];
      if (id === undefined || !timer) break;
      this.#now = timer.at;
      if (timer.everyMs === null) this.#due.delete(id);
      else timer.at += timer.everyMs;
      timer.fn();
      await settle();
    }
    this.#now = end;
  }
}

/** Lets queued session work and the room's answers run out (no time passes). */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * Sockets to a memory room. `hold(frame)`: the frame goes nowhere (the server never answers it);
 * `silent`: the connection stops answering altogether (half-open: nothing in, nothing out).
 * `sent` has every frame the client sent on every socket, `inject` sends a frame from the server on
 * the newest socket. What the room sends reaches the client after each of its own frames; `deliver()`
 * hands it what the room sent since (another device's commits, say).
 */
export function roomLink(room: ReturnType<typeof makeRoom>, device: string) {
  const link = {
    sockets: 0,
    silent: false,
    hold: (_frame: ClientMessage) => false,
    sent: [] as ClientMessage[],
    closes: [] as Array<{ code: number; reason: string }>,
    inject: (_frame: ServerMessage) => {},
    deliver: () => {},
    open: null as unknown as OpenSocket,
  };
  link.open = (_url, handlers) => {
    link.sockets++;
    const peer = room.connect(device);
    let closed = false;
    let read = 0;
    const pump = () => {
      if (closed || link.silent) return;
      for (; read < peer.sent.length; read++) handlers.message(peer.sent[read]!);
      if (peer.closed) {
        closed = true;
        handlers.closed(peer.closed.code, peer.closed.reason);
      }
    };
    link.inject = (frame) => handlers.message(JSON.stringify(frame));
    link.deliver = pump;
    setImmediate(() => handlers.open());
    return {
      send: (text) => {
        if (closed) return;
        const frame = JSON.parse(text) as ClientMessage;
        link.sent.push(frame);
        if (link.silent || link.hold(frame)) return;
        void peer.deliver(text).then(pump);
      },
      close: (code = 1000, reason = "client_closed") => {
        if (closed) return;
        closed = true;
        link.closes.push({ code, reason });
        peer.close(code, reason);
        handlers.closed(code, reason);
      },
    };
  };
  return link;
}

export const sentOfType = <T extends ClientMessage["type"]>(frames: ClientMessage[], type: T) =>
  frames.filter((f): f is Extract<ClientMessage, { type: T }> => f.type === type);

/** The instant the memory-room tests' devices start at (2026-11-25 04:00 UTC); their clocks run on from it with the fake timers. */
export const MEMORY_T0 = Date.UTC(2026, 10, 25, 4, 0, 0);

/**
 * Device A's store on a temp file, bound to the memory branch (zone UTC), its clock MEMORY_T0 plus
 * `timers`' time (or MEMORY_T0 itself without them).
 */
export async function memoryDeviceStore(name: string, timers?: ManualTimers): Promise<LocalStore> {
  const store = LocalStore.open(tempDbPath(name), { clockMs: () => MEMORY_T0 + (timers?.now ?? 0) });
  const init = store.init({ server_url: "http://127.0.0.1:8787", token: await deviceToken("test-branch", DEVICES.A, "owner"), time_zone: "UTC" });
  if (!init.ok) throw new Error(init.error);
  return store;
}

/** The memory branch keeps no snapshot: a bootstrap finds none (404) and the device pulls from 0. */
export const noSnapshot = async (): Promise<Response> => new Response(JSON.stringify({ error: "not_found" }), { status: 404 });

/**
 * Device A online against a fresh memory branch: the real SyncEngine and session on a real store, on
 * fake time. Every frame the branch sends it is in `received`, decoded, with its length in characters
 * (what the branch counts against its unread budget). Its teardown goes on `cleanups`.
 */
export async function liveMemoryDevice(name: string, cleanups: Array<() => void>) {
  const room = makeRoom();
  const timers = new ManualTimers();
  const store = await memoryDeviceStore(name, timers);
  const link = roomLink(room, DEVICES.A);
  const received: Array<{ message: ServerMessage; chars: number }> = [];
  const open: OpenSocket = (url, handlers) =>
    link.open(url, {
      ...handlers,
      message: (text) => {
        received.push({ message: JSON.parse(text) as ServerMessage, chars: text.length });
        handlers.message(text);
      },
    });
  const engine = new SyncEngine({ store, openSocket: open, timers, random: () => 1, fetch: noSnapshot });
  cleanups.push(() => {
    engine.stop();
    store.close();
    room.close();
  });
  engine.start();
  await settle();
  return { room, timers, store, link, engine, received };
}
