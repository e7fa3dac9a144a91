/**
 * TinyBase in the race: a MergeableStore with TinyBase's WebSocket synchronizer (over `ws`) to its
 * Durable Object synchronizer, each record a row of one table (its fields as cells, the nested
 * `client` and `media_selection` as JSON text: cells are strings, numbers, booleans or null), A
 * writing each batch in one transaction. Clients keep the store in memory (no local persistence).
 * A's writes are durable when the room answers that its SQLite has them all
 * (bench/baseline/tinybase-room.ts: TinyBase's protocol has no acknowledgement).
 */
import { createMergeableStore, type Row } from "tinybase";
import { createWsSynchronizer, type WsSynchronizer } from "tinybase/synchronizers/synchronizer-ws-client";
import { WebSocket } from "ws";
import { benchProject } from "../../lib/payload.js";
import { RECORDS } from "../../lib/peer-names.js";
import { Waiters } from "../../lib/waiters.js";
import { batches, now, type RaceDevice, tick } from "./race-device.js";

function row(i: number): Row {
  const p = benchProject(i);
  return {
    title: p.title,
    client: JSON.stringify(p.client),
    status: p.status,
    starts_on: p.starts_on,
    ends_on: p.ends_on,
    location: p.location,
    package: p.package === null ? null : JSON.stringify(p.package),
    notes: p.notes,
    media_selection: JSON.stringify(p.media_selection),
  };
}

export class TinyBaseRace implements RaceDevice {
  readonly #w = new Waiters();
  readonly #store = createMergeableStore();
  #synchronizer: WsSynchronizer<WebSocket> | null = null;

  constructor(
    readonly server: string,
    readonly room: string,
  ) {
    this.#store.addDidFinishTransactionListener(() => this.#w.poke());
  }

  #url(path = ""): URL {
    const url = new URL(`/tinybase/${this.room}${path}`, this.server);
    return url;
  }

  async #connect(): Promise<void> {
    const url = this.#url();
    url.protocol = "ws:";
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
    this.#synchronizer = await createWsSynchronizer(this.#store, ws, 1);
    await this.#synchronizer.startSync();
  }

  async live() {
    await this.#connect();
  }

  async write(n: number, batch: number) {
    const first_at = now();
    // Asked first, answered when the room's SQLite has all n rows.
    const durable = fetch(this.#url(`/durable?rows=${n}`)).then(async (r) => {
      if (!r.ok) throw new Error(`durable? ${r.status} ${await r.text()}`);
      return now();
    });
    for (const [start, end] of batches(n, batch)) {
      this.#store.transaction(() => {
        for (let i = start; i < end; i++) this.#store.setRow(RECORDS, crypto.randomUUID(), row(i));
      });
      await tick();
    }
    return { first_at, durable_at: await durable };
  }

  async has(n: number) {
    await this.#w.wait(() => this.#store.getRowCount(RECORDS) >= n);
    return { at: now() };
  }

  async join(n: number) {
    const start = now();
    await this.#connect();
    await this.#w.wait(() => this.#store.getRowCount(RECORDS) >= n);
    return { start, end: now() };
  }

  close() {
    void this.#synchronizer?.destroy();
  }
}
