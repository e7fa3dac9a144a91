/**
 * Yjs on partyserver in the race: a Y.Doc with y-partyserver's provider (over `ws`), each record an
 * entry of one Y.Map, A writing each batch in one transaction. Clients keep the document in memory
 * (no local persistence). A's writes are durable when the room says it saved a document holding
 * all of them (bench/baseline/yjs-room.ts: Yjs has no acknowledgement of its own).
 */
import { WebSocket } from "ws";
import YProvider from "y-partyserver/provider";
import * as Y from "yjs";
import { benchProject } from "../../lib/payload.js";
import { RECORDS, YJS_PARTY } from "../../lib/peer-names.js";
import { Waiters } from "../../lib/waiters.js";
import { batches, now, type RaceDevice, tick } from "./race-device.js";

export class YjsRace implements RaceDevice {
  readonly #w = new Waiters();
  readonly #doc = new Y.Doc();
  readonly #records = this.#doc.getMap(RECORDS);
  #provider: YProvider | null = null;
  #synced = false;
  #saved = 0;

  constructor(
    readonly server: string,
    readonly room: string,
  ) {
    this.#records.observe(() => this.#w.poke());
  }

  #connect() {
    const provider = new YProvider(new URL(this.server).host, this.room, this.#doc, {
      party: YJS_PARTY,
      WebSocketPolyfill: WebSocket as never,
      disableBc: true,
    });
    provider.on("synced", () => {
      this.#synced = true;
      this.#w.poke();
    });
    provider.on("custom-message", (message: string) => {
      this.#saved = Math.max(this.#saved, (JSON.parse(message) as { saved: number }).saved);
      this.#w.poke();
    });
    this.#provider = provider;
  }

  async live() {
    this.#connect();
    await this.#w.wait(() => this.#synced);
  }

  async write(n: number, batch: number) {
    const first_at = now();
    for (const [start, end] of batches(n, batch)) {
      this.#doc.transact(() => {
        for (let i = start; i < end; i++) this.#records.set(crypto.randomUUID(), benchProject(i));
      });
      await tick();
    }
    await this.#w.wait(() => this.#saved >= n);
    return { first_at, durable_at: now() };
  }

  async has(n: number) {
    await this.#w.wait(() => this.#records.size >= n);
    return { at: now() };
  }

  async join(n: number) {
    const start = now();
    this.#connect();
    await this.#w.wait(() => this.#records.size >= n);
    return { start, end: now() };
  }

  close() {
    this.#provider?.destroy();
  }
}
