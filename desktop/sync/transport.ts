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
import { utf8ByteLength } from "../../protocol/wire.js";

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

    /** partysocket sends with `send(text)`: a small frame goes out uncompressed (COMPRESS_FROM_BYTES). */
    override send(data: Parameters<WS["send"]>[0], options?: SendOptions | ((err?: Error) => void), cb?: (err?: Error) => void): void {
      if (typeof options === "object") return super.send(data, options, cb);
      super.send(data, { compress: worthCompressing(data) }, typeof options === "function" ? options : cb);
    }
  };
}

/**
 * Frames smaller than this go out uncompressed, larger ones deflated (permessage-deflate, RFC 7692).
 *
 * `ws` deflates every frame when the server keeps its compression context between messages, as
 * workerd does (it answers a bare `permessage-deflate`): its own 1 KiB threshold applies only under
 * `client_no_context_takeover`. And it deflates on libuv's thread pool, so a deflated frame leaves on
 * a later turn of the event loop: after everything the process does synchronously once `send`
 * returned (after a push, the session's `push_sent` audit row, the machine's next PUSH_NEXT and its
 * queue read) and a round trip through the pool. For a single write (`bench/sync.ts --only live`,
 * 2-core machine) that put the push on the branch about 0.9 ms later at the median and 4.5 ms later
 * at p99 than sending it plain does. What compression saves on a frame this small is a few hundred
 * bytes at most (a one-event push is about 570 bytes; hellos, statuses, pulls and pings are
 * smaller). Large frames (batches, chunks) are still deflated, with the context kept.
 *
 * An uncompressed message on a deflate connection is valid: RSV1 says per message whether it is
 * compressed (RFC 7692 §6), and a message sent plain goes through neither end's deflate stream, so
 * the context both ends keep stays in step. Order holds: `ws` queues a frame sent while an earlier
 * one is still being deflated behind it. The threshold is `ws`'s own default.
 */
export const COMPRESS_FROM_BYTES = 1024;

/** Whether a frame is worth deflating: text from COMPRESS_FROM_BYTES of UTF-8 on; anything else as `ws` would. */
function worthCompressing(data: Parameters<WS["send"]>[0]): boolean {
  // A string's UTF-8 is at least as long as its length: a batch is not walked to know it is large.
  return typeof data !== "string" || data.length >= COMPRESS_FROM_BYTES || utf8ByteLength(data) >= COMPRESS_FROM_BYTES;
}

type SendOptions = Exclude<Parameters<WS["send"]>[1], ((err?: Error) => void) | undefined>;

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
