/**
 * The bare baseline's client in the race: a `ws` socket to the baseline Durable Object
 * (bench/baseline/baseline-do.ts), records as they come, nothing validated. A pushes each batch as
 * soon as it is written, without waiting for the previous ack (the object handles a socket's
 * messages in order, so nothing limits it but the platform). With `local`, every device also keeps
 * each record in a local SQLite file (WAL, synchronous NORMAL, as the app's LocalStore opens its
 * database), one transaction per batch written or message received: the platform's limit when the
 * local durable write is counted too.
 */
import Database from "better-sqlite3";
import { WebSocket } from "ws";
import { benchProject } from "../../lib/payload.js";
import { Waiters } from "../../lib/waiters.js";
import { batches, now, type RaceDevice, tick } from "./race-device.js";

type BaselineMessage = { type: "ack"; batch_id: string; head: number } | { type: "live" | "changes"; changes: Array<{ seq: number; record: Row }>; more?: boolean };
interface Row {
  id: string;
  entity_id: string;
  payload: unknown;
}
const PAGE = 1_000;

export class BareRace implements RaceDevice {
  readonly #w = new Waiters();
  readonly #keep: ((rows: readonly Row[]) => void) | null;
  #ws: WebSocket | null = null;
  #sent = 0;
  #acked = 0;
  #received = 0;
  #cursor = 0;
  #caughtUp = false;

  constructor(
    readonly server: string,
    readonly branch: string,
    localDb: string | null,
  ) {
    this.#keep = localDb === null ? null : keeper(localDb);
  }

  async #connect(): Promise<void> {
    const url = new URL(`/baseline/${this.branch}/sync`, this.server);
    url.protocol = "ws:";
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
    ws.on("message", (data) => this.#message(JSON.parse(String(data)) as BaselineMessage));
    this.#ws = ws;
    this.#pull();
  }

  #pull() {
    this.#ws!.send(JSON.stringify({ type: "pull", since: this.#cursor, limit: PAGE }));
  }

  #message(m: BaselineMessage) {
    if (m.type === "ack") {
      this.#acked++;
      this.#w.poke();
      return;
    }
    const last = m.changes.at(-1);
    if (last) this.#cursor = last.seq;
    // Ask for the next page before keeping this one, as StudioVault's client does.
    if (m.type === "changes") (m.more === true ? this.#pull() : (this.#caughtUp = true));
    this.#keep?.(m.changes.map((c) => c.record));
    this.#received += m.changes.length;
    this.#w.poke();
  }

  async live() {
    await this.#connect();
    await this.#w.wait(() => this.#caughtUp);
  }

  async write(n: number, batch: number) {
    const first_at = now();
    for (const [start, end] of batches(n, batch)) {
      const records: Row[] = [];
      for (let i = start; i < end; i++) records.push({ id: crypto.randomUUID(), entity_id: crypto.randomUUID(), payload: benchProject(i) });
      this.#keep?.(records);
      this.#ws!.send(JSON.stringify({ type: "push", batch_id: crypto.randomUUID(), records }));
      this.#sent++;
      await tick();
    }
    await this.#w.wait(() => this.#acked === this.#sent);
    return { first_at, durable_at: now() };
  }

  async has(n: number) {
    await this.#w.wait(() => this.#received >= n);
    return { at: now() };
  }

  async join(n: number) {
    const start = now();
    await this.#connect();
    await this.#w.wait(() => this.#received >= n);
    return { start, end: now() };
  }

  close() {
    this.#ws?.close();
  }
}

/** A local SQLite file keeping records, one transaction per call. */
function keeper(file: string): (rows: readonly Row[]) => void {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec("CREATE TABLE IF NOT EXISTS records (id TEXT PRIMARY KEY, entity_id TEXT NOT NULL, body TEXT NOT NULL)");
  const insert = db.prepare<[string, string, string]>("INSERT OR REPLACE INTO records (id, entity_id, body) VALUES (?, ?, ?)");
  return db.transaction((rows: readonly Row[]) => {
    for (const r of rows) insert.run(r.id, r.entity_id, JSON.stringify(r.payload));
  });
}
