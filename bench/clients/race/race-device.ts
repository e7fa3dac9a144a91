/**
 * What a device does in the race (bench/race.ts), whatever system it runs on: B goes live and waits
 * for A's records, A writes them as fast as its system lets it and waits until the server has them
 * durably, C joins cold and waits until it has them all. Times are wall-clock milliseconds
 * (performance.timeOrigin + now()), comparable across the processes of one machine.
 */
import { uuidv7 } from "../../../domain/ids.js";

export interface RaceDevice {
  /** Connects and is live: caught up and receiving others' writes as they happen. */
  live(): Promise<void>;
  /** Writes records 0…n-1 in batches of `batch`; resolves when the server has all of them durably. */
  write(n: number, batch: number): Promise<{ first_at: number; durable_at: number }>;
  /** Resolves when this device has n records from others. */
  has(n: number): Promise<{ at: number }>;
  /** Connects from cold (nothing local) and resolves when it has n records. */
  join(n: number): Promise<{ start: number; end: number }>;
  close(): void;
}

export type RaceCommand = { cmd: "live" } | { cmd: "write"; n: number; batch: number } | { cmd: "has"; n: number } | { cmd: "join"; n: number } | { cmd: "exit" };

export const now = () => performance.timeOrigin + performance.now();
/** One macrotask: lets the socket and the sync side run between two batches of writes. */
export const tick = () => new Promise((r) => setImmediate(r));
/** A fresh UUIDv7 (ids of events and entities must be v7 on StudioVault's wire). */
export const newId = () => uuidv7(Date.now(), (bytes) => crypto.getRandomValues(bytes));

/** Batches of `batch` over 0…n-1, as [first index, end index). */
export function* batches(n: number, batch: number): Generator<[number, number]> {
  for (let start = 0; start < n; start += batch) yield [start, Math.min(n, start + batch)];
}
