/**
 * The device's reports to its branch while connected (protocol v6 `status`): its cursor and its
 * queue, so the branch's dashboard shows each device's backlog and how long it has waited; since v10
 * also its account of its business days (`pos_days`), the till's proof for a closed day.
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
 * A different `pos_days` is news too (a day whose last event was confirmed, a new day's first sale).
 *
 * One report skips the interval: the branch's `day_report` for a close (v10) is answered at once
 * (`reportNow`), changed or not, so the branch can call the till confirmed for the
 * day right after the close rather than a second (or STATUS_INTERVAL_MS) later. It counts as a
 * report for the interval like any other.
 * Time comes from the injected clock and timers (the session's).
 */
import type { TillDay } from "../../domain/index.js";
import { type QueueReport, type Status, STATUS_INTERVAL_MS, STATUS_MIN_INTERVAL_MS } from "../../protocol/index.js";

export interface StatusReportTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface StatusReportsOptions {
  timers: StatusReportTimers;
  /** The device's clock (the store's), ms since the epoch. */
  nowMs: () => number;
  /**
   * The cursor and queue now (LocalStore.cursor and queueReport: indexed reads, cheap), and on a v10
   * connection the till's days (LocalStore.tillDays, indexed too); undefined where not reported.
   */
  read: () => StatusRead;
  send: (status: Status) => void;
}

/** What a report says, as read from the store. */
export interface StatusRead {
  cursor: number;
  queue: QueueReport;
  pos_days?: TillDay[];
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
  /** The `pos_days` last told, as JSON (its order is the store's: by day); undefined: none told. */
  #toldDays: string | undefined;
  #toldAtMs = Number.NEGATIVE_INFINITY;
  /** The one timer pending: the trailing report of a change, or the periodic one. */
  #timer: { kind: "trailing" | "periodic"; handle: unknown } | null = null;
  #stopped = false;

  /** Starts reporting on a connection whose hello (admitted: the welcome came) carried `hello`, read at `hello.atMs`. */
  constructor(
    private readonly o: StatusReportsOptions,
    hello: StatusRead & { atMs: number },
  ) {
    const helloAtMs = hello.atMs;
    this.#told = keyOf(hello.queue, helloAtMs);
    this.#toldCursor = hello.cursor;
    this.#toldDays = daysKey(hello.pos_days);
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

  /**
   * The branch issued a day's report (v10 `day_report`): report now, whether anything changed or not
   * and however recently the last report went. A trailing report waiting is sent now instead.
   */
  reportNow(): void {
    if (this.#stopped) return;
    this.#send(this.o.read());
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

  #send(now: StatusRead): void {
    const atMs = this.o.nowMs();
    this.o.send({ type: "status", cursor: now.cursor, queue: now.queue, ...(now.pos_days === undefined ? {} : { pos_days: now.pos_days }) });
    this.#told = keyOf(now.queue, atMs);
    this.#toldCursor = now.cursor;
    this.#toldDays = daysKey(now.pos_days);
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

  #isNews(now: StatusRead): boolean {
    if (!sameKey(keyOf(now.queue, this.o.nowMs()), this.#told)) return true;
    return now.cursor !== this.#toldCursor || daysKey(now.pos_days) !== this.#toldDays;
  }

  #clear(): void {
    if (this.#timer) this.o.timers.clearTimeout(this.#timer.handle);
    this.#timer = null;
  }
}

function keyOf(queue: QueueReport, atMs: number): QueueKey {
  return { pending: queue.pending, oldestAtMs: queue.oldest_pending_age_ms === null ? null : atMs - queue.oldest_pending_age_ms };
}

/** `pos_days` as compared between reports: a few dozen small entries at most (MAX_TILL_DAYS). */
const daysKey = (days: readonly TillDay[] | undefined): string | undefined => (days === undefined ? undefined : JSON.stringify(days));

function sameKey(a: QueueKey, b: QueueKey): boolean {
  return a.pending === b.pending && a.oldestAtMs === b.oldestAtMs;
}
