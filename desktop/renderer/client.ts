/**
 * The renderer's way to the core. In Electron the preload exposes `window.studiovault`; in browser
 * mode the same API travels over HTTP (calls) and a WebSocket (events) on loopback.
 */
import type { ApiRequest, ApiResults, AppEvent, DesktopApi } from "../app/api.js";

declare global {
  interface Window {
    studiovault?: DesktopApi;
  }
}

export function connectApi(): DesktopApi {
  if (window.studiovault) return window.studiovault;
  const key = new URLSearchParams(location.search).get("key") ?? "";
  const listeners = new Set<(event: AppEvent) => void>();
  const open = () => {
    const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/events?key=${key}`);
    ws.onmessage = (message) => listeners.forEach((l) => l(JSON.parse(String(message.data)) as AppEvent));
    // The core runs on this machine; if the page outlives a restart of it, reconnect.
    ws.onclose = () => setTimeout(open, 1_000);
  };
  open();
  return {
    async call<M extends ApiRequest["method"]>(request: Extract<ApiRequest, { method: M }>): Promise<ApiResults[M]> {
      const response = await fetch("/api", { method: "POST", headers: { "content-type": "application/json", "x-studiovault-key": key }, body: JSON.stringify(request) });
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
