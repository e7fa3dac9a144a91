/**
 * A loopback WebSocket proxy between the browser client and the real server, for what a healthy
 * server never does on cue: `cut()` drops every connection without a close frame (the network
 * going away), `refuse` turns new connections away, and `inject(frame)` sends a frame of the
 * test's own to the client, as if from the server (a frame that does not decode, a chunked message).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";

export interface WireTap {
  /** Where the client connects instead of the server (an http origin; the client derives ws:). */
  url: string;
  /** Connections the client opened through the tap so far. */
  readonly connections: number;
  /** Frames the client sent, as text, in order (every connection). */
  readonly sent: string[];
  /** Terminates every open connection on both sides (no close frame: the client sees 1006). */
  cut(): void;
  /** While true, new connections are terminated as soon as they open. */
  refuse: boolean;
  /** While true, nothing from the server reaches the client (a half-open connection); the client's frames still pass. */
  mute: boolean;
  /** Called with every frame the client sends; returning false keeps it from the server. */
  intercept: ((frame: string) => boolean) | null;
  /** Called with every frame the server sends; the client gets what it returns instead. */
  rewrite: ((frame: string) => string) | null;
  /** Sends `frame` to every open client connection. */
  inject(frame: string): void;
  close(): Promise<void>;
}

export async function startWireTap(upstream: URL): Promise<WireTap> {
  const pairs = new Set<{ client: WebSocket; server: WebSocket }>();
  const sent: string[] = [];
  let connections = 0;
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const tap: WireTap = {
    url: "",
    get connections() {
      return connections;
    },
    sent,
    refuse: false,
    mute: false,
    intercept: null,
    rewrite: null,
    cut() {
      for (const pair of pairs) {
        pair.client.terminate();
        pair.server.terminate();
      }
      pairs.clear();
    },
    inject(frame) {
      for (const pair of pairs) if (pair.client.readyState === WebSocket.OPEN) pair.client.send(frame);
    },
    async close() {
      tap.cut();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (client) => {
      connections += 1;
      if (tap.refuse) return client.terminate();
      const target = new URL(req.url ?? "/", upstream);
      target.protocol = "ws:";
      const toServer = new WebSocket(target);
      const pair = { client, server: toServer };
      pairs.add(pair);
      const waiting: string[] = [];
      toServer.on("open", () => waiting.splice(0).forEach((m) => toServer.send(m)));
      client.on("message", (data) => {
        const text = String(data);
        sent.push(text);
        if (tap.intercept && !tap.intercept(text)) return;
        if (toServer.readyState === WebSocket.OPEN) toServer.send(text);
        else waiting.push(text);
      });
      toServer.on("message", (data) => {
        if (!tap.mute && client.readyState === WebSocket.OPEN) client.send(tap.rewrite ? tap.rewrite(String(data)) : String(data));
      });
      // A close from either side is passed on with its code (a fatal close must reach the client as sent).
      toServer.on("close", (code, reason) => {
        pairs.delete(pair);
        if (client.readyState === WebSocket.OPEN) client.close(code === 1005 || code === 1006 ? 1000 : code, reason);
      });
      client.on("close", () => {
        pairs.delete(pair);
        if (toServer.readyState === WebSocket.OPEN || toServer.readyState === WebSocket.CONNECTING) toServer.terminate();
      });
      toServer.on("error", () => client.terminate());
      client.on("error", () => toServer.terminate());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  tap.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return tap;
}
