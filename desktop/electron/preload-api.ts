/**
 * The preload's half of the DesktopApi: `window.studiovault` in the renderer, the same interface
 * browser mode implements over HTTP. It exposes two functions and nothing of Electron: the page
 * never gets `ipcRenderer`, cannot pick a channel and cannot see Node.
 */
import type { ApiRequest, ApiResults, AppEvent, DesktopApi } from "../app/api.js";
import { type CallReply, CALL_CHANNEL, EVENT_CHANNEL } from "./channels.js";

/** The part of Electron's `ipcRenderer` the preload uses. */
export interface PreloadIpc {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

/** The part of Electron's `contextBridge` the preload uses. */
export interface PreloadBridge {
  exposeInMainWorld(key: string, api: unknown): void;
}

/** The name the renderer finds the API under (`desktop/renderer/client.ts`). */
export const API_KEY = "studiovault";

export function createPreloadApi(ipc: PreloadIpc): DesktopApi {
  return {
    async call<M extends ApiRequest["method"]>(request: Extract<ApiRequest, { method: M }>): Promise<ApiResults[M]> {
      const reply = (await ipc.invoke(CALL_CHANNEL, request)) as CallReply;
      if (!reply.ok) throw new Error(reply.message);
      return reply.value as ApiResults[M];
    },
    subscribe(listener: (event: AppEvent) => void): () => void {
      const forward = (_event: unknown, appEvent: unknown) => listener(appEvent as AppEvent);
      ipc.on(EVENT_CHANNEL, forward);
      return () => {
        ipc.removeListener(EVENT_CHANNEL, forward);
      };
    },
  };
}

export function exposeDesktopApi(bridge: PreloadBridge, ipc: PreloadIpc): void {
  bridge.exposeInMainWorld(API_KEY, createPreloadApi(ipc));
}
