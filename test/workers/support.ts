/**
 * Real WebSocket clients for tests inside workerd: each connects through the Worker (token check,
 * routing) to the real branch Durable Object, exactly as a desktop does.
 */
import { env, SELF } from "cloudflare:test";
import { signDeviceToken } from "../../durable/auth.js";
import {
  ChunkAssembler,
  decodeServerMessage,
  type Role,
  type ServerMessage,
  uuidv7,
} from "../../schema/index.js";
import type { DeviceClaims } from "../../schema/token.js";

export const ORIGIN = "https://sync.test";

export async function tokenFor(branch: string, device: string, role: Role = "owner", ttlS = 3600, issuedAgoS = 0): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) - issuedAgoS;
  const claims = { v: 1, branch, device, user: `user-${device.slice(-4)}`, role, iat, exp: iat + ttlS } as DeviceClaims;
  return signDeviceToken(claims, env.TOKEN_SECRET);
}

export const newId = () => uuidv7(Date.now(), (b) => crypto.getRandomValues(b));

export class TestClient {
  readonly #queue: ServerMessage[] = [];
  readonly #waiters: Array<() => void> = [];
  readonly #assembler = new ChunkAssembler();
  closed: { code: number; reason: string } | null = null;

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", async (event) => {
      const decoded = decodeServerMessage(event.data as string);
      if (!decoded.ok) throw new Error(`server sent an invalid frame: ${decoded.error.message}`);
      let message = decoded.value;
      if (message.type === "chunk") {
        const joined = await this.#assembler.accept(message);
        if (!joined.ok) throw new Error(joined.error.message);
        if (joined.value === null) return;
        const whole = decodeServerMessage(joined.value, Number.MAX_SAFE_INTEGER);
        if (!whole.ok) throw new Error(whole.error.message);
        message = whole.value;
      }
      this.#queue.push(message);
      this.#wake();
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
      this.#wake();
    });
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The next message (of a type, skipping others when `skip` is set). Rejects after `timeoutMs`. */
  async next<T extends ServerMessage["type"]>(type?: T, opts: { skip?: boolean; timeoutMs?: number } = {}): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
    for (;;) {
      while (this.#queue.length > 0) {
        const message = this.#queue.shift()!;
        if (!type || message.type === type) return message as Extract<ServerMessage, { type: T }>;
        if (!opts.skip) throw new Error(`expected ${type}, received ${JSON.stringify(message).slice(0, 300)}`);
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for ${type ?? "a message"}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type ?? "a message"}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("socket did not close");
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return this.closed;
  }

  close(): void {
    try {
      this.ws.close(1000, "done");
    } catch {
      /* already closed */
    }
  }
}

/** Opens a WebSocket to a branch through the Worker. Returns the HTTP response if the upgrade is refused. */
export async function openSocket(branch: string, token: string | null): Promise<TestClient | Response> {
  const url = `${ORIGIN}/v1/branches/${branch}/sync${token ? `?token=${encodeURIComponent(token)}` : ""}`;
  const response = await SELF.fetch(url, { headers: { Upgrade: "websocket" } });
  if (!response.webSocket) return response;
  response.webSocket.accept();
  return new TestClient(response.webSocket);
}

/** Connects and completes the handshake. */
export async function connect(branch: string, device: string, role: Role = "owner", cursor = 0): Promise<TestClient> {
  const client = await openSocket(branch, await tokenFor(branch, device, role));
  if (client instanceof Response) throw new Error(`upgrade refused: ${client.status} ${await client.text()}`);
  client.send({ type: "hello", protocol_version: 1, device_id: device, cursor, app: "workers-test/1" });
  await client.next("welcome");
  return client;
}

/** Pulls every change after `since` over the socket, page by page. */
export async function pullAll(client: TestClient, since = 0, limit = 1_000) {
  const changes = [];
  let cursor = since;
  let pages = 0;
  for (let more = true; more; pages++) {
    client.send({ type: "pull", request_id: crypto.randomUUID(), since: cursor, limit });
    const page = await client.next("changes", { skip: true });
    changes.push(...page.changes);
    cursor = page.cursor;
    more = page.more;
  }
  return { changes, cursor, pages };
}
