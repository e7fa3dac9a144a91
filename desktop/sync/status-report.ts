/**
 * The device's reports to its branch while connected (protocol v6 `status`): its cursor and its
 * queue, so the branch's dashboard shows each device's backlog and how long it has waited.
 *
 * A report goes out when the queue changed since the branch last heard it (the hello's `queue` or
 * the last `status`), at most once per STATUS_MIN_INTERVAL_MS: the first change after a quiet
 * second is sent at once, later ones wait and go out together when the second is over (trailing),
 * so a burst of 20 sales costs two frames and the last one is always told. The hello is no status:
 * the first change after it goes out at once, so a backlog pushed on reconnect is seen drained as
 * soon as its verdicts are in, not a second later. With nothing to tell,
 * the last report is repeated every STATUS_INTERVAL_MS, so the dashboard's ages stay fresh and a
 * change the device was never told about (another process's write) is noticed within that.
 *
 * "Changed" means a different count, a different event waiting longest, or a moved cursor; the
 * age alone grows by itself and is not news. A moved cursor is news however it moved (a pulled page,
 * this device's own commits coming back, other devices' changes arriving live): the branch learns a
 * device's cursor only from its hello, its status and the `since` of its pulls, and a device that
 * applied live changes without saying so would show on the dashboard as behind the head while it is
 * up to date. The interval bounds what that costs: a busy branch gets one status per device per second.
 * Time comes from the injected clock and timers (the session's).
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
  /** What the branch last heard (hello or status), and when the last status went (device clock; none yet: -Infinity). */
  #told: QueueKey;
  #toldCursor: number;
  #toldAtMs = Number.NEGATIVE_INFINITY;
  /** The one timer pending: the trailing report of a change, or the periodic one. */
  #timer: { kind: "trailing" | "periodic"; handle: unknown } | null = null;
  #stopped = false;

  /** Starts reporting on a connection whose hello (admitted: the welcome came) carried `hello`, read at `hello.atMs`. */
  constructor(
    private readonly o: StatusReportsOptions,
    hello: { cursor: number; queue: QueueReport; atMs: number },
  ) {
    const helloAtMs = hello.atMs;
    this.#told = keyOf(hello.queue, helloAtMs);
    this.#toldCursor = hello.cursor;
    this.#schedule("periodic", Math.max(0, helloAtMs + STATUS_INTERVAL_MS - o.nowMs()));
  }

  /** The queue may have changed (a write, a verdict): report it now, or when the interval allows. */
  queueMayHaveChanged(): void {
    this.#changed();
  }

  /** Changes were applied (a pulled page, live): the cursor moved, reported like a queue change. */
  cursorMoved(): void {
    this.#changed();
  }

  #changed(): void {
    if (this.#stopped || this.#timer?.kind === "trailing") return; // the trailing report reads it then
    const now = this.o.read();
    if (!this.#isNews(now)) return;
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
    this.#toldCursor = now.cursor;
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
        if (kind === "trailing" && !this.#isNews(now)) this.#schedule("periodic", Math.max(0, this.#toldAtMs + STATUS_INTERVAL_MS - this.o.nowMs()));
        else this.#send(now);
      }, ms),
    };
    this.#timer = timer;
  }

  #isNews(now: { cursor: number; queue: QueueReport }): boolean {
    if (!sameKey(keyOf(now.queue, this.o.nowMs()), this.#told)) return true;
    return now.cursor !== this.#toldCursor;
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
