/**
 * One WebSocket to the branch: partysocket over `ws`, behind a small adapter (`openPartySocket`).
 *
 * partysocket is a reconnecting, buffering WebSocket. Here both are off, on purpose:
 *  - Reconnecting belongs to the sync machine (machines/sync-machine.ts): capped, jittered backoff,
 *    and close reasons after which it must not reconnect at all (a revoked device, a newer
 *    connection of the same device). A socket reconnecting on its own would open connections the
 *    machine does not know of, without a `hello`. So `maxRetries: 0`: one connection per socket.
 *  - Unsent work belongs to the SQLite queue, which re-sends every event without a verdict on the
 *    next connection. A frame buffered while closed would go out on a later connection before its
 *    `hello` (a fatal handshake_required). So `maxEnqueuedMessages: 0` (its default buffers
 *    without limit): a frame sent while the socket is not open is dropped.
 * What partysocket still does: the `ws` events as DOM-style events (the API the app's browser side
 * has too), its connect timeout, and a close event at once on `close()`.
 *
 * What it cannot tell: why a connection failed. It reports an error as a close 1000 with reason
 * "unknown reason", and a refused upgrade's HTTP status only inside an error string. So the adapter
 * listens to the `ws` socket underneath (a subclass handed to partysocket as its `WebSocket`): its
 * `unexpected-response` event carries the status of a refused upgrade, and its own `close` event the
 * real code (1006 for a connection that failed or was cut).
 */
import type { IncomingMessage } from "node:http";
import PartySocketWs from "partysocket/ws";
import WS from "ws";
import { CLOSE_CODES, type CloseReason } from "../../protocol/close-codes.js";

export interface Socket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

export interface SocketHandlers {
  open(): void;
  message(text: string): void;
  /**
   * Always called exactly once: at once when the client closes, else when the socket closed or
   * failed. A refused upgrade (HTTP 401/403) is reported as the protocol's close for the same
   * refusal (REFUSED_UPGRADE); any other refusal as WS_CLOSE.abnormal, reason `http_<status>`.
   */
  closed(code: number, reason: string): void;
}

export type OpenSocket = (url: string, handlers: SocketHandlers) => Socket;

/** The standard close codes the desktop uses (RFC 6455 §7.4.1); the protocol's own are CLOSE_CODES. */
export const WS_CLOSE = {
  /** A close the client chose (the machine's CLOSE, the session's end, an upload to restart). */
  normal: 1000,
  /** No close frame: the connection failed or was cut. Never sent, only reported. */
  abnormal: 1006,
  /** The client hit a bug (the session's own error): drop the connection and start over. */
  internalError: 1011,
} as const;

/** HTTP status of a refused upgrade → the close reason the protocol uses for the same refusal. */
const REFUSED_UPGRADE: Partial<Record<number, CloseReason>> = {
  401: "unauthorized",
  403: "forbidden",
};

/** The close a refused upgrade is reported as. */
export function refusedUpgradeClose(status: number): { code: number; reason: string } {
  const reason = REFUSED_UPGRADE[status];
  return reason ? { code: CLOSE_CODES[reason], reason } : { code: WS_CLOSE.abnormal, reason: `http_${status}` };
}

export function syncUrl(serverUrl: string, branchId: string, token: string): string {
  const url = new URL(`/v1/branches/${encodeURIComponent(branchId)}/sync`, serverUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.searchParams.set("token", token);
  return url.toString();
}

/** What the adapter hears from the `ws` socket under partysocket. */
interface Underlying {
  refused(status: number): void;
  closed(code: number, reason: string): void;
}

/**
 * A `ws` WebSocket that tells `underlying` why it closed. partysocket constructs it (`new WS(url)`)
 * and adds its own listeners after these, so these run first.
 */
function observedWs(underlying: Underlying): new (address: string, protocols?: string | string[]) => WS {
  return class ObservedWs extends WS {
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols);
      // With a listener here, `ws` leaves the refused request to it: note the status, then abort
      // the handshake exactly as `ws` does without one (an `error`, then a `close` 1006, follow).
      this.once("unexpected-response", (_request, response: IncomingMessage) => {
        underlying.refused(response.statusCode ?? 0);
        this.terminate();
      });
      // partysocket reports errors itself; without a listener of its own, `ws` would throw them.
      this.on("error", () => {});
      this.once("close", (code: number, reason: Buffer) => underlying.closed(code, reason.toString()));
    }
  };
}

export function openPartySocket(connectTimeoutMs: number): OpenSocket {
  return (url, handlers) => {
    let refused: { code: number; reason: string } | null = null;
    let done = false;
    const finish = (code: number, reason: string) => {
      if (done) return;
      done = true;
      handlers.closed(refused?.code ?? code, refused?.reason ?? reason);
    };
    const socket = new PartySocketWs(url, undefined, {
      WebSocket: observedWs({
        refused: (status) => void (refused = refusedUpgradeClose(status)),
        closed: (code, reason) => finish(code || WS_CLOSE.abnormal, reason || "connection_lost"),
      }),
      maxRetries: 0,
      maxEnqueuedMessages: 0,
      connectionTimeout: connectTimeoutMs,
      minReconnectionDelay: 0,
    });
    socket.addEventListener("open", () => handlers.open());
    socket.addEventListener("message", (event) => handlers.message(String(event.data)));
    // partysocket's own connect timeout closes the `ws` socket, whose `close` (1006) reports it.
    return {
      // Dropped once closed, as partysocket would (it keeps nothing with maxEnqueuedMessages 0), without its warning.
      send: (text) => {
        if (!done) socket.send(text);
      },
      close: (code = WS_CLOSE.normal, reason = "client_closed") => {
        socket.close(code, reason);
        finish(code, reason);
      },
    };
  };
}
