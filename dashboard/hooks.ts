/** Hooks every view uses: re-render on the feed's news, load a server read, tick for ages. */
import { useCallback, useEffect, useReducer, useRef, useState } from "preact/hooks";
import type { BranchFeed } from "./feed.js";
import type { ApiResult } from "./link.js";

/** Re-renders whenever the feed changes (devices, head, connection). */
export function useFeed(feed: BranchFeed): number {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => feed.subscribe(() => rerender(undefined)), [feed]);
  return feed.version;
}

/** Re-renders every `intervalMs`, so "12 min ago" keeps counting between news. */
export function useTick(intervalMs = 10_000): void {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    const timer = setInterval(() => rerender(undefined), intervalMs);
    return () => clearInterval(timer);
  }, [intervalMs]);
}

export type Loaded<T> = { kind: "loading" } | { kind: "ready"; value: T } | { kind: "failed"; message: string };

/**
 * A server read, loaded when `key` changes and again on `reload()`; while a reload runs the last
 * answer stays on screen (no flicker on live refreshes). An answer to an older key is dropped.
 */
export function useLoad<T>(load: () => Promise<ApiResult<T>>, key: string): { data: Loaded<T>; reload: () => void } {
  const [data, setData] = useState<Loaded<T>>({ kind: "loading" });
  const [round, setRound] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    const mine = ++latest.current;
    void load().then((r) => {
      if (mine !== latest.current) return;
      setData(r.ok ? { kind: "ready", value: r.value } : { kind: "failed", message: failureWords(r) });
    });
  }, [key, round]);
  useEffect(() => setData({ kind: "loading" }), [key]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { data, reload };
}

/** An HTTP failure for people. */
export function failureWords(r: { status: number; error: string; message: string }): string {
  if (r.status === 0) return "The server cannot be reached. What is shown will update when it can.";
  if (r.status === 401) return "The server refused this sign-in (expired or revoked token). Sign in again.";
  if (r.status === 403) return `Your role may not do this: ${r.message}`;
  return r.message || r.error;
}
