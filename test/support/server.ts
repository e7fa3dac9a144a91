/**
 * The real Worker + branch Durable Objects under workerd, started from a Node test with wrangler's
 * `unstable_startWorker` on a loopback port, with state persisted in a directory of the test's.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { unstable_startWorker } from "wrangler";
import WebSocket from "ws";
import { signDeviceToken } from "../../durable/auth.js";
import { MAX_BATCH_EVENTS, PROTOCOL_VERSION, type ServerMessage } from "../../protocol/index.js";
import { type Role, type SyncEvent } from "../../domain/index.js";
import { Inbox } from "./inbox.js";
import type { DeviceClaims } from "../../protocol/token.js";

export const TEST_SECRET = "node-e2e-secret-0123456789abcdef0123456789";

export interface LocalServer {
  url: URL;
  persistDir: string;
  /** Stops workerd; `keepState` keeps the persisted state for a restart on the same folder. */
  stop(opts?: { keepState?: boolean }): Promise<void>;
}

/** The real Worker under workerd via wrangler; `config` picks another wrangler config (the benchmarks' adds the baseline). */
/**
 * `vars`: more plain-text bindings for the Worker and its Durable Objects (e.g. the branch's
 * COMPACTION_* settings, durable/branch-do.ts), beside the token secret.
 */
export async function startServer(persistDir?: string, port = 0, config = path.resolve(import.meta.dirname, "../../wrangler.toml"), vars: Record<string, string> = {}): Promise<LocalServer> {
  // A state folder of our own is removed on stop (they grow past 100 MB); a caller's stays the caller's.
  const ownDir = persistDir === undefined;
  const dir = persistDir ?? mkdtempSync(path.join(tmpdir(), "sv-server-"));
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
  process.env.WRANGLER_SEND_METRICS = "false";
  const worker = await unstable_startWorker({
    config,
    bindings: { TOKEN_SECRET: { type: "plain_text", value: TEST_SECRET }, ...Object.fromEntries(Object.entries(vars).map(([k, value]) => [k, { type: "plain_text" as const, value }])) },
    sendMetrics: false,
    dev: {
      persist: dir,
      server: { hostname: "127.0.0.1", port },
      inspector: false,
      watch: false,
      logLevel: "warn",
    },
  });
  await worker.ready;
  return {
    url: await worker.url,
    persistDir: dir,
    stop: async (opts) => {
      await worker.dispose();
      if (ownDir && !opts?.keepState) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A raw client's install id: one per device id (a real install makes its own and keeps it). */
export const installIdOf = (device: string) => `0193a000-0000-7000-8000-${device.replace(/-/g, "").slice(-12)}`;

export function tokenFor(branch: string, device: string, role: Role = "owner", ttlS = 3600): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return signDeviceToken({ v: 1, branch, device, user: "e2e", role, iat, exp: iat + ttlS } as DeviceClaims, TEST_SECRET);
}

/** A raw protocol client over the `ws` package (the desktop's engine arrives with the desktop issue). */
export class NodeClient {
  readonly inbox = new Inbox();
  lastError: string | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => this.inbox.frame(String(data)));
    // 1006 says only that the socket went without a close frame; the error before it says why.
    ws.on("error", (e) => (this.lastError = e.message));
    ws.on("close", (code, reason) => this.inbox.close(code, this.lastError ? `${String(reason)} after: ${this.lastError}` : String(reason)));
  }

  static async open(server: LocalServer, branch: string, device: string, role: Role = "owner"): Promise<NodeClient> {
    const token = await tokenFor(branch, device, role);
    const url = new URL(`/v1/branches/${branch}/sync?token=${token}`, server.url);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    const client = new NodeClient(ws);
    client.send({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: device, cursor: 0, app: "node-e2e/1", install_id: installIdOf(device), clock_ms: Date.now() });
    await client.next("welcome");
    return client;
  }

  send(message: unknown) {
    this.ws.send(JSON.stringify(message));
  }

  /**
   * Commits `count` events made by `make(i)`, in full batches, one in flight, and checks that every
   * one was confirmed (seeding for e2e tests and benchmarks).
   */
  async pushAll(count: number, make: (i: number) => SyncEvent, batchId: () => string, timeoutMs = 120_000): Promise<void> {
    for (let done = 0; done < count; ) {
      const events = Array.from({ length: Math.min(MAX_BATCH_EVENTS, count - done) }, (_, i) => make(done + i));
      this.send({ type: "push", batch_id: batchId(), events });
      const { verdicts } = await this.next("verdicts", timeoutMs);
      const refused = verdicts.find((v) => v.status !== "confirmed");
      if (refused) throw new Error(`seeding: an event was refused: ${JSON.stringify(refused).slice(0, 300)}`);
      done += events.length;
    }
  }

  /** Commits `events` in full batches (pushAll), each batch under a fresh UUIDv7-shaped id. */
  pushEvents(events: readonly SyncEvent[], timeoutMs?: number): Promise<void> {
    return this.pushAll(events.length, (i) => events[i]!, () => crypto.randomUUID().replace(/^(.{14})./, "$17"), timeoutMs);
  }

  /** The next message of `type`, passing over others. */
  next<T extends ServerMessage["type"]>(type: T, timeoutMs = 15_000) {
    return this.inbox.next(type, { skip: true, timeoutMs });
  }

  close() {
    this.ws.close(1000, "done");
  }
}
