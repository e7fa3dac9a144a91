/**
 * One WebSocket to the branch, through partysocket, configured for our queue semantics: the
 * sync machine owns reconnecting (capped, jittered backoff) and the SQLite queue owns unsent work,
 * so partysocket must neither retry (maxRetries 0) nor buffer messages while closed
 * (maxEnqueuedMessages 0: its default buffers without limit).
 */
import PartySocketWs from "partysocket/ws";
import WS from "ws";

export interface Socket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface SocketHandlers {
  open(): void;
  message(text: string): void;
  /** Always called exactly once. A refused upgrade (HTTP 401/403) is mapped to 4001/4003. */
  closed(code: number, reason: string): void;
}

export type OpenSocket = (url: string, handlers: SocketHandlers) => Socket;

/** HTTP status of a refused upgrade → the close code the protocol uses for the same refusal. */
const REFUSED_UPGRADE: Record<number, [number, string]> = {
  401: [4001, "unauthorized"],
  403: [4003, "forbidden"],
};

export function syncUrl(serverUrl: string, branchId: string, token: string): string {
  const url = new URL(`/v1/branches/${encodeURIComponent(branchId)}/sync`, serverUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  return url.toString();
}

export function openPartySocket(connectTimeoutMs: number): OpenSocket {
  return (url, handlers) => {
    const socket = new PartySocketWs(url, undefined, {
      WebSocket: WS,
      maxRetries: 0,
      maxEnqueuedMessages: 0,
      connectionTimeout: connectTimeoutMs,
      minReconnectionDelay: 0,
    });
    let refused: [number, string] | null = null;
    let done = false;
    const finish = (code: number, reason: string) => {
      if (done) return;
      done = true;
      handlers.closed(refused?.[0] ?? code, refused?.[1] ?? reason);
    };
    socket.addEventListener("open", () => handlers.open());
    socket.addEventListener("message", (event) => handlers.message(String(event.data)));
    socket.addEventListener("error", (event) => {
      // ws reports a refused upgrade as "Unexpected server response: 401".
      const status = /Unexpected server response: (\d{3})/.exec(String((event as { message?: string }).message ?? ""));
      if (status) refused = REFUSED_UPGRADE[Number(status[1])] ?? [1006, `http_${status[1]}`];
    });
    socket.addEventListener("close", (event) => {
      // partysocket dispatches its close before the error that caused it: let the error land first.
      const { code, reason } = event as unknown as { code: number; reason: string };
      setTimeout(() => finish(code || 1006, reason || "connection_lost"), 0);
    });
    return {
      send: (text) => socket.send(text),
      close: (code = 1000, reason = "client_closed") => {
        socket.close(code, reason);
        finish(code, reason);
      },
    };
  };
}
