/**
 * What `sync` has done so far, from the queue's counts and the changes applied: for the progress line
 * on a terminal and for the result. Pure, so the words are tested without a server or a clock.
 */
import type { SyncStatus } from "../../../domain/index.js";

export type QueueCounts = Record<SyncStatus, number>;

export interface SyncCounts {
  /** Events that left `pending` during this run (sent, or decided). */
  pushed: number;
  confirmed: number;
  rejected: number;
  /** Changes pulled from the server and applied (others' and our own commits). */
  pulled: number;
}

export function countsSince(start: QueueCounts, now: QueueCounts, pulled: number): SyncCounts {
  const left = (c: QueueCounts) => c.sent + c.confirmed + c.rejected;
  return { pushed: Math.max(0, left(now) - left(start)), confirmed: now.confirmed - start.confirmed, rejected: now.rejected - start.rejected, pulled };
}

/** `sync live: pushed 120 · confirmed 118 · rejected 2 · pulled 340 · 152 events/s`. */
export function describeProgress(state: string, c: SyncCounts, elapsedMs: number): string {
  const n = (x: number) => x.toLocaleString("en-US");
  const decided = c.confirmed + c.rejected + c.pulled;
  const rate = elapsedMs >= 250 ? ` · ${n(Math.round((decided * 1000) / elapsedMs))} events/s` : "";
  return `sync ${state}: pushed ${n(c.pushed)} · confirmed ${n(c.confirmed)} · rejected ${n(c.rejected)} · pulled ${n(c.pulled)}${rate}`;
}
