/**
 * A bare client speaking docs/protocol.md to StudioVault's server, in the race: what the server
 * itself allows, without the desktop's store and engine. `hello`, then A pushes valid project-create
 * events in batches of MAX_BATCH_EVENTS with up to PUSHES_IN_FLIGHT pushes out (the server handles
 * a branch's frames one at a time in arrival order) and counts confirmed verdicts; its hello says
 * `echo: false` (v11), so its own commits do not come back and it moves its cursor over their seqs
 * from the verdicts, as the desktop does (wire.md, Live and poke; `RACE_ECHO=1` in the environment
 * leaves it out, for the race as it ran before v11); B applies `live`
 * changes whose seq follows its cursor and pulls on a gap or a `poke` (the server pokes a device
 * that only listens once its unread live bytes pass a budget, I12), and says it reads with a `ping`
 * every READ_ACK_CHARS of `live` and `poke`, as wire.md's "A client that keeps up" and the desktop
 * do; C pulls pages from 0,
 * asking for the next page before counting this one. Frames are parsed, not validated: the
 * server's speed is measured, not a client's.
 */
import { WebSocket } from "ws";
import { MAX_BATCH_EVENTS, MAX_PULL_PAGE_CHANGES, PROTOCOL_VERSION } from "../../../protocol/index.js";
import { READ_ACK_CHARS, READING_NONCE } from "../../../desktop/sync/session.js";
import { benchProject } from "../../lib/payload.js";
import { Waiters } from "../../lib/waiters.js";
import { batches, newId, now, type RaceDevice, tick } from "./race-device.js";

/** As many pushes in flight as the desktop's pipelined engine allows (issue 16). */
export const PUSHES_IN_FLIGHT = 4;

type ServerFrame =
  | { type: "welcome"; head: number }
  | { type: "verdicts"; batch_id: string; verdicts: Array<{ status: string; seq?: number }> }
  | { type: "live"; changes: Array<{ seq: number }>; head: number }
  | { type: "poke"; head: number }
  | { type: "changes"; changes: Array<{ seq: number }>; cursor: number; more: boolean }
  | { type: "error" | "chunk"; [key: string]: unknown }
  | { type: "pong" | "watching" | "observed" };

export class ProtocolRace implements RaceDevice {
  readonly #w = new Waiters();
  #ws: WebSocket | null = null;
  #welcomed = false;
  #cursor = 0;
  #head = 0;
  #pulling = false;
  #inFlight = 0;
  #confirmed = 0;
  #readSinceSent = 0;
  #failure: string | null = null;
  /** Frames received by type, with when the last of each came: how B got its records. */
  readonly #frames: Record<string, [count: number, lastAt: number]> = {};

  constructor(
    readonly server: string,
    readonly branch: string,
    readonly deviceId: string,
    readonly token: string,
  ) {}

  async #connect(): Promise<void> {
    const url = new URL(`/v1/branches/${this.branch}/sync?token=${this.token}`, this.server);
    url.protocol = "ws:";
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
    ws.on("message", (data) => {
      const text = String(data);
      const frame = JSON.parse(text) as ServerFrame;
      // A client that applies what it is sent says so (wire.md, "A client that keeps up"), as the desktop does.
      if (frame.type === "live" || frame.type === "poke") {
        this.#readSinceSent += text.length;
        if (this.#readSinceSent >= READ_ACK_CHARS) {
          this.#readSinceSent = 0;
          ws.send(JSON.stringify({ type: "ping", nonce: READING_NONCE }));
        }
      }
      this.#frame(frame);
    });
    ws.on("close", (code, reason) => this.#fail(`socket closed ${code} ${String(reason)}`));
    this.#ws = ws;
    const install_id = crypto.randomUUID();
    ws.send(JSON.stringify({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: this.deviceId, cursor: 0, app: "bench-race/1", install_id, clock_ms: Date.now(), ...(process.env.RACE_ECHO ? {} : { echo: false }) }));
    await this.#until(() => this.#welcomed);
  }

  #fail(why: string) {
    this.#failure ??= why;
    this.#w.poke();
  }

  /** Waits for `done`, and fails loudly if the server said no on the way. */
  async #until(done: () => boolean): Promise<void> {
    await this.#w.wait(() => done() || this.#failure !== null);
    if (this.#failure !== null && !done()) throw new Error(this.#failure);
  }

  #frame(f: ServerFrame) {
    const seen = (this.#frames[f.type] ??= [0, 0]);
    seen[0]++;
    seen[1] = now();
    switch (f.type) {
      case "welcome":
        this.#welcomed = true;
        this.#head = f.head;
        if (this.#head > this.#cursor) this.#pull();
        break;
      case "verdicts": {
        this.#inFlight--;
        const refused = f.verdicts.find((v) => v.status !== "confirmed");
        if (refused) this.#fail(`an event was refused: ${JSON.stringify(refused).slice(0, 300)}`);
        this.#confirmed += f.verdicts.length;
        // Its own commits, in order: the cursor moves over them while they continue it, else it pulls.
        for (const v of f.verdicts) if (v.seq === this.#cursor + 1) this.#cursor = v.seq;
        if (f.verdicts.some((v) => (v.seq ?? 0) > this.#cursor)) this.#pull();
        break;
      }
      case "live":
        this.#head = Math.max(this.#head, f.head);
        // Changes up to the cursor are had already; a gap is filled by pulling.
        if (f.changes[0]!.seq > this.#cursor + 1) this.#pull();
        else this.#cursor = Math.max(this.#cursor, f.changes.at(-1)!.seq);
        break;
      case "poke":
        this.#head = Math.max(this.#head, f.head);
        if (this.#head > this.#cursor) this.#pull();
        break;
      case "changes":
        this.#pulling = false;
        // Live changes may have moved the cursor past this page while it was on its way.
        this.#cursor = Math.max(this.#cursor, f.cursor);
        if (f.more || this.#head > this.#cursor) this.#pull();
        break;
      case "error":
      case "chunk":
        this.#fail(`the bare client does not handle ${JSON.stringify(f).slice(0, 300)}`);
        break;
      case "pong":
      case "watching":
      case "observed":
        break;
    }
    this.#w.poke();
  }

  /** One pull in flight at a time; the next page is asked for as soon as this one arrives. */
  #pull() {
    if (this.#pulling) return;
    this.#pulling = true;
    this.#readSinceSent = 0; // any frame tells the branch this connection reads
    this.#ws!.send(JSON.stringify({ type: "pull", request_id: crypto.randomUUID(), since: this.#cursor, limit: MAX_PULL_PAGE_CHANGES }));
  }

  async live() {
    await this.#connect();
    await this.#until(() => !this.#pulling && this.#cursor >= this.#head);
  }

  async write(n: number, batch: number) {
    const first_at = now();
    const created_at = new Date().toISOString();
    for (const [start, end] of batches(n, Math.min(batch, MAX_BATCH_EVENTS))) {
      await this.#until(() => this.#inFlight < PUSHES_IN_FLIGHT);
      const events = [];
      for (let i = start; i < end; i++) {
        events.push({ id: newId(), device_id: this.deviceId, entity_type: "project", entity_id: newId(), operation: "create", payload: benchProject(i), base_version: null, depends_on: null, created_at });
      }
      this.#ws!.send(JSON.stringify({ type: "push", batch_id: newId(), events }));
      this.#inFlight++;
      await tick();
    }
    await this.#until(() => this.#confirmed >= n);
    return { first_at, durable_at: now() };
  }

  /** The branch is fresh, so having n records is having seq n. */
  async has(n: number) {
    await this.#until(() => this.#cursor >= n);
    return { at: now(), frames: this.#frames };
  }

  async join(n: number) {
    const start = now();
    await this.#connect();
    await this.#until(() => this.#cursor >= n);
    return { start, end: now() };
  }

  close() {
    this.#ws?.removeAllListeners("close");
    this.#ws?.close();
  }
}
