/**
 * The device's reports to its branch while connected (protocol v6 `status`): its cursor and its
 * queue, so the branch's dashboard shows each device's backlog and how long it has waited.
 *
 * A report goes out when the queue changed since the branch last heard it (the hello's `queue` or
 * the last `status`), at most once per STATUS_MIN_INTERVAL_MS: the first change after a quiet
 * second is sent at once, later ones wait and go out together when the second is over (trailing),
 * so a burst of 20 sales costs two frames and the last one is always told. With nothing to tell,
 * the last report is repeated every STATUS_INTERVAL_MS, so the dashboard's ages stay fresh and a
 * change the device was never told about (another process's write) is noticed within that.
 *
 * "Changed" means a different count or a different event waiting longest; the age alone grows by
 * itself and is not news. Time comes from the injected clock and timers (the session's).
 */
import { type QueueReport, type Status, STATUS_INTERVAL_MS, STATUS_MIN_INTERVAL_MS } from "../../protocol/index.js";

export interface StatusReportTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface StatusReportsOptions {
  timers: StatusReportTimers;
  /** The device's clock (the store's), ms since the epoch. */
  nowMs: () => number;
  /** The cursor and queue now (LocalStore.cursor and queueReport: indexed reads, cheap). */
  read: () => { cursor: number; queue: QueueReport };
  send: (status: Status) => void;
}

/** A queue as compared between reports: its count and when its oldest event was written. */
interface QueueKey {
  pending: number;
  oldestAtMs: number | null;
}

export class StatusReports {
  /** What the branch last heard, and when (device clock). */
  #told: QueueKey;
  #toldAtMs: number;
  /** The one timer pending: the trailing report of a change, or the periodic one. */
  #timer: { kind: "trailing" | "periodic"; handle: unknown } | null = null;
  #stopped = false;

  /** Starts reporting on a connection whose hello (admitted: the welcome came) carried `helloQueue`, read at `helloAtMs`. */
  constructor(
    private readonly o: StatusReportsOptions,
    helloQueue: QueueReport,
    helloAtMs: number,
  ) {
    this.#told = keyOf(helloQueue, helloAtMs);
    this.#toldAtMs = helloAtMs;
    this.#schedule("periodic", STATUS_INTERVAL_MS);
  }

  /** The queue may have changed (a write, a verdict): report it now, or when the interval allows. */
  queueMayHaveChanged(): void {
    if (this.#stopped || this.#timer?.kind === "trailing") return; // the trailing report reads it then
    const now = this.o.read();
    if (sameKey(keyOf(now.queue, this.o.nowMs()), this.#told)) return;
    const waitMs = this.#toldAtMs + STATUS_MIN_INTERVAL_MS - this.o.nowMs();
    if (waitMs <= 0) this.#send(now);
    else this.#schedule("trailing", waitMs);
  }

  stop(): void {
    this.#stopped = true;
    this.#clear();
  }

  #send(now: { cursor: number; queue: QueueReport }): void {
    const atMs = this.o.nowMs();
    this.o.send({ type: "status", cursor: now.cursor, queue: now.queue });
    this.#told = keyOf(now.queue, atMs);
    this.#toldAtMs = atMs;
    this.#schedule("periodic", STATUS_INTERVAL_MS);
  }

  #schedule(kind: "trailing" | "periodic", ms: number): void {
    this.#clear();
    const timer = {
      kind,
      handle: this.o.timers.setTimeout(() => {
        if (this.#timer !== timer || this.#stopped) return;
        this.#timer = null;
        const now = this.o.read();
        // A trailing report whose change undid itself (a write then its verdict) has nothing to tell.
        if (kind === "trailing" && sameKey(keyOf(now.queue, this.o.nowMs()), this.#told)) this.#schedule("periodic", Math.max(0, this.#toldAtMs + STATUS_INTERVAL_MS - this.o.nowMs()));
        else this.#send(now);
      }, ms),
    };
    this.#timer = timer;
  }

  #clear(): void {
    if (this.#timer) this.o.timers.clearTimeout(this.#timer.handle);
    this.#timer = null;
  }
}

function keyOf(queue: QueueReport, atMs: number): QueueKey {
  return { pending: queue.pending, oldestAtMs: queue.oldest_pending_age_ms === null ? null : atMs - queue.oldest_pending_age_ms };
}

function sameKey(a: QueueKey, b: QueueKey): boolean {
  return a.pending === b.pending && a.oldestAtMs === b.oldestAtMs;
}
