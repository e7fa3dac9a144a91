/**
 * A loopback proxy between devices and the real server (HTTP and WebSockets), for tests that need the
 * network to fail at an exact point instead of racing a timer: `freezeAfterVerdicts(n)` passes the
 * first n `verdicts` frames, then stops delivering anything from the server (the pushes still reach
 * it), so a device is cut between a commit and its verdict deterministically.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import WebSocket, { WebSocketServer } from "ws";

export interface TestProxy {
  /** Where devices connect instead of the server. */
  url: URL;
  /**
   * After `verdicts` verdict frames reached the device, nothing more from the server does. Resolves
   * when the device has sent a push the server answered but the device will never hear about.
   */
  freezeAfterVerdicts(verdicts: number): Promise<void>;
  /** Everything passes again (new connections and old). */
  passAll(): void;
  /**
   * HTTP requests whose path matches `path` wait here until the returned function is called (a
   * snapshot download held, so the progress its client shows before the first byte can be looked at).
   */
  holdHttp(path: RegExp): () => void;
  /**
   * Every text frame from the server passes through `fn` on its way to a device: what it returns is
   * delivered instead (the frame itself to let it pass). Null: frames pass untouched.
   */
  rewriteServerFrames(fn: ((text: string) => string) | null): void;
  /**
   * What the server sent devices through this proxy since the last call (which resets the count):
   * `text`, the messages' UTF-8 bytes; `wire`, the bytes its sockets carried (the proxy's connection
   * to the server negotiates permessage-deflate, as the desktop's does; frame headers and upgrade
   * responses included).
   */
  takeServerBytes(): { text: number; wire: number };
  close(): Promise<void>;
}

export async function startProxy(upstream: URL): Promise<TestProxy> {
  let mode: { kind: "pass" } | { kind: "count"; left: number; frozen: boolean; onUnanswered: () => void } = { kind: "pass" };
  const sockets = new Set<WebSocket>();

  let held: { path: RegExp; released: Promise<void> } | null = null;
  let rewrite: ((text: string) => string) | null = null;
  let textBytes = 0;
  /** Each server socket's bytes read when last counted. */
  const wireRead = new Map<import("node:net").Socket, number>();
  const server = http.createServer(async (req, res) => {
    if (held && held.path.test(req.url ?? "")) await held.released;
    const up = http.request(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req, socket, head) => {
    wss.handleUpgrade(req, socket, head, (device) => {
      const target = new URL(req.url ?? "/", upstream);
      target.protocol = "ws:";
      const toServer = new WebSocket(target);
      toServer.on("upgrade", (res) => wireRead.set(res.socket, 0));
      sockets.add(device).add(toServer);
      const pending: Array<{ data: WebSocket.RawData; binary: boolean }> = [];
      toServer.on("open", () => pending.splice(0).forEach((m) => toServer.send(m.data, { binary: m.binary })));
      device.on("message", (data, binary) => {
        if (mode.kind === "count" && mode.frozen && String(data).startsWith('{"type":"push"')) mode.onUnanswered();
        if (toServer.readyState === WebSocket.OPEN) toServer.send(data, { binary });
        else pending.push({ data, binary });
      });
      toServer.on("message", (data, binary) => {
        textBytes += Buffer.isBuffer(data) ? data.length : Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data.byteLength;
        if (mode.kind === "count") {
          if (mode.frozen) return;
          if (String(data).startsWith('{"type":"verdicts"') && --mode.left === 0) mode.frozen = true;
        }
        if (device.readyState !== WebSocket.OPEN) return;
        if (rewrite !== null && !binary) device.send(rewrite(String(data)));
        else device.send(data, { binary });
      });
      const closeBoth = () => {
        for (const ws of [device, toServer]) if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.terminate();
        sockets.delete(device);
        sockets.delete(toServer);
      };
      device.on("close", closeBoth).on("error", closeBoth);
      toServer.on("close", closeBoth).on("error", closeBoth);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: new URL(`http://127.0.0.1:${port}`),
    freezeAfterVerdicts: (verdicts) =>
      new Promise<void>((resolve) => {
        mode = { kind: "count", left: verdicts, frozen: false, onUnanswered: resolve };
      }),
    passAll: () => void (mode = { kind: "pass" }),
    rewriteServerFrames: (fn) => void (rewrite = fn),
    takeServerBytes: () => {
      let wire = 0;
      for (const [socket, counted] of wireRead) {
        wire += socket.bytesRead - counted;
        wireRead.set(socket, socket.bytesRead);
      }
      const text = textBytes;
      textBytes = 0;
      return { text, wire };
    },
    holdHttp: (path) => {
      let release = () => {};
      held = { path, released: new Promise<void>((resolve) => (release = resolve)) };
      return () => {
        held = null;
        release();
      };
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
