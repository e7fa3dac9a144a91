/**
 * The renderer's way to the core. In Electron the preload exposes `window.studiovault`; in browser
 * mode the same API travels over HTTP (calls) and a WebSocket (events) on loopback, with the key of
 * the link the app printed. A key the server refuses means the link is out of date (another
 * database, or a key file that was removed): calls then fail with StaleLinkError, and the window
 * hears STALE_LINK_EVENT, so the shell can say so instead of showing an empty till.
 */
import type { ApiRequest, ApiResults, AppEvent, DesktopApi } from "../app/api.js";

declare global {
  interface Window {
    studiovault?: DesktopApi;
  }
}

/** Dispatched on `window` when the server refuses this page's key. */
export const STALE_LINK_EVENT = "studiovault:stale-link";

export class StaleLinkError extends Error {
  constructor() {
    super("this link is out of date: open the link printed by the app");
    this.name = "StaleLinkError";
  }
}

export function connectApi(): DesktopApi {
  if (window.studiovault) return window.studiovault;
  const key = new URLSearchParams(location.search).get("key") ?? "";
  const listeners = new Set<(event: AppEvent) => void>();
  let stale = false;
  const markStale = () => {
    if (stale) return;
    stale = true;
    window.dispatchEvent(new Event(STALE_LINK_EVENT));
  };
  const open = () => {
    if (stale) return;
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/events?key=${encodeURIComponent(key)}`);
    ws.onmessage = (message) => listeners.forEach((l) => l(JSON.parse(String(message.data)) as AppEvent));
    // The core runs on this machine; if the page outlives a restart of it, reconnect. A refused key
    // is found out by a call, which sees the 403 that a refused WebSocket upgrade hides.
    ws.onclose = () => {
      void probe();
      setTimeout(open, 1_000);
    };
  };
  /** After a lost event socket: is this page's key still accepted? (A server that is down is not an answer.) */
  const probe = async () => {
    try {
      const response = await fetch("/api", { method: "POST", headers: { "content-type": "application/json", "x-studiovault-key": key }, body: JSON.stringify({ method: "status" }) });
      if (response.status === 403) markStale();
    } catch {
      // Not reachable (yet): the reconnect keeps trying.
    }
  };
  open();
  return {
    async call<M extends ApiRequest["method"]>(request: Extract<ApiRequest, { method: M }>): Promise<ApiResults[M]> {
      const response = await fetch("/api", { method: "POST", headers: { "content-type": "application/json", "x-studiovault-key": key }, body: JSON.stringify(request) });
      if (response.status === 403) {
        markStale();
        throw new StaleLinkError();
      }
      const body = (await response.json()) as ApiResults[M] & { message?: string };
      if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
      return body;
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
