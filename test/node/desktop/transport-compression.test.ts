/**
 * Which frames the desktop's transport deflates (desktop/sync/transport.ts COMPRESS_FROM_BYTES), read
 * off the wire: a loopback server accepts the upgrade with a bare `permessage-deflate`, as workerd
 * does (compression context kept between messages), and reads each frame's RSV1 bit, which says
 * whether that message is compressed (RFC 7692 §6). Deflating is asynchronous in `ws`, so a small
 * frame that is deflated leaves only after whatever the process does next; sent plain, it leaves
 * within `send`.
 */
import { createHash } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket as NetSocket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { COMPRESS_FROM_BYTES, openPartySocket, type Socket } from "../../../desktop/sync/transport.js";

interface Frame {
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/** Client frames as they arrive, unmasked (a client's frames are always masked). Enough of RFC 6455 §5.2 for this test. */
function readFrames(socket: NetSocket, onFrame: (frame: Frame) => void): void {
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    buffered = Buffer.concat([buffered, chunk]);
    for (;;) {
      if (buffered.length < 2) return;
      let length = buffered[1]! & 0x7f;
      let at = 2;
      if (length === 126) {
        if (buffered.length < 4) return;
        length = buffered.readUInt16BE(2);
        at = 4;
      } else if (length === 127) {
        if (buffered.length < 10) return;
        length = Number(buffered.readBigUInt64BE(2));
        at = 10;
      }
      if (buffered.length < at + 4 + length) return;
      const mask = buffered.subarray(at, at + 4);
      const payload = Buffer.from(buffered.subarray(at + 4, at + 4 + length));
      for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
      onFrame({ rsv1: (buffered[0]! & 0x40) !== 0, opcode: buffered[0]! & 0x0f, payload });
      buffered = buffered.subarray(at + 4 + length);
    }
  });
}

describe("the transport deflates only frames worth it", () => {
  let server: Server | null = null;
  let client: Socket | null = null;
  const upgraded: NetSocket[] = [];
  afterEach(async () => {
    client?.close();
    client = null;
    // This server answers no close handshake: its sockets are cut, or `ws` would wait for one.
    for (const socket of upgraded.splice(0)) socket.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  /** A server that keeps its deflate context (a bare `permessage-deflate`); resolves with the client's socket once open, and the frames it sends. */
  async function connect(): Promise<{ frames: Frame[]; socket: Socket; arrived: (n: number) => Promise<void> }> {
    const frames: Frame[] = [];
    const waiting: Array<() => void> = [];
    server = createServer();
    server.on("upgrade", (request, socket: NetSocket) => {
      upgraded.push(socket);
      const accept = createHash("sha1").update(`${String(request.headers["sec-websocket-key"])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      expect(String(request.headers["sec-websocket-extensions"])).toContain("permessage-deflate");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
      readFrames(socket, (frame) => {
        frames.push(frame);
        for (const wake of waiting.splice(0)) wake();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/v1/branches/b/sync`;
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s: Socket = openPartySocket(5_000)(url, { open: () => resolve(s), message: () => {}, closed: (code, reason) => reject(new Error(`closed ${code} ${reason}`)) });
    });
    client = socket;
    const arrived = async (n: number) => {
      while (frames.length < n) await new Promise<void>((resolve) => waiting.push(resolve));
    };
    return { frames, socket, arrived };
  }

  it("a frame under COMPRESS_FROM_BYTES goes out plain on a connection that deflates", async () => {
    const { frames, socket, arrived } = await connect();
    const push = JSON.stringify({ type: "push", batch_id: "01936f3c-0000-7000-8000-000000000001", events: [{ id: "01936f3c-0000-7000-8000-000000000002", note: "x".repeat(400) }] });
    expect(push.length).toBeLessThan(COMPRESS_FROM_BYTES);
    socket.send('{"type":"ping","nonce":0}');
    socket.send(push);
    await arrived(2);
    expect(frames.map((f) => ({ rsv1: f.rsv1, opcode: f.opcode, text: f.payload.toString("utf8") }))).toEqual([
      { rsv1: false, opcode: 1, text: '{"type":"ping","nonce":0}' },
      { rsv1: false, opcode: 1, text: push },
    ]);
  });

  it("a frame from COMPRESS_FROM_BYTES on is still deflated, and a plain one sent after it still arrives after it", async () => {
    const { frames, socket, arrived } = await connect();
    const batch = JSON.stringify({ type: "push", batch_id: "01936f3c-0000-7000-8000-000000000003", events: Array.from({ length: 40 }, (_, i) => ({ id: `01936f3c-0000-7000-8000-${String(i).padStart(12, "0")}`, title: "Shoot" })) });
    expect(batch.length).toBeGreaterThanOrEqual(COMPRESS_FROM_BYTES);
    socket.send(batch);
    socket.send('{"type":"ping","nonce":0}');
    await arrived(2);
    expect(frames[0]!.rsv1).toBe(true);
    expect(frames[0]!.payload.length).toBeLessThan(batch.length);
    expect({ rsv1: frames[1]!.rsv1, text: frames[1]!.payload.toString("utf8") }).toEqual({ rsv1: false, text: '{"type":"ping","nonce":0}' });
  });
});
