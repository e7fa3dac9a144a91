/**
 * StudioVault's app stack in the race: the desktop's LocalStore (a better-sqlite3 file) and
 * SyncEngine, exactly as the app and the CLI run them (as bench/clients/device.ts's `ours`). A
 * writes each batch with one `store.writeMany` (one local transaction, each write its own queued
 * event) and tells the engine; its writes are durable on the server when nothing is left pending
 * (every verdict back). B counts the changes from other devices the engine applied; C starts from
 * an empty store and is done when its cursor reaches n (a fresh branch: n commits are seq n).
 */
import type { LocalStore } from "../../../desktop/store/local-store.js";
import { SyncEngine } from "../../../desktop/sync/engine.js";
import type { Change } from "../../../protocol/index.js";
import { openBenchStore } from "../../lib/app-store.js";
import { benchProject } from "../../lib/payload.js";
import { Waiters } from "../../lib/waiters.js";
import { batches, now, type RaceDevice, tick } from "./race-device.js";

export class AppRace implements RaceDevice {
  readonly #w = new Waiters();
  readonly store: LocalStore;
  readonly engine: SyncEngine;
  #received = 0;

  constructor(db: string, server: string, token: string) {
    const { store, deviceId: mine } = openBenchStore(db, server, token);
    this.store = store;
    this.engine = new SyncEngine({
      store: this.store,
      onChanges: (changes: readonly Change[]) => {
        for (const c of changes) if (c.device_id !== mine) this.#received++;
        this.#w.poke();
      },
    });
    this.engine.subscribe(() => this.#w.poke());
    this.engine.start(false);
  }

  #live = () => this.engine.status().kind === "live";

  async live() {
    this.engine.setOnline(true);
    await this.#w.wait(this.#live);
  }

  async write(n: number, batch: number) {
    const first_at = now();
    for (const [start, end] of batches(n, batch)) {
      const records = [];
      for (let i = start; i < end; i++) records.push(benchProject(i));
      const written = this.store.writeMany(records.map((data) => ({ kind: "project_create", data })));
      if (!written.ok) throw new Error(`writeMany refused write ${written.error.index}: ${written.error.message}`);
      this.engine.notifyWrite();
      await tick();
    }
    await this.#w.wait(() => this.store.summary().pending === 0);
    return { first_at, durable_at: now() };
  }

  async has(n: number) {
    await this.#w.wait(() => this.#received >= n);
    return { at: now() };
  }

  async join(n: number) {
    const start = now();
    this.engine.setOnline(true);
    await this.#w.wait(() => this.store.cursor() >= n);
    return { start, end: now() };
  }

  close() {
    this.engine.stop();
    this.store.close();
  }
}
