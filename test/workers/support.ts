/**
 * Real WebSocket clients for tests inside workerd: each connects through the Worker (token check,
 * routing) to the real branch Durable Object, exactly as a desktop does.
 */
import { env, SELF } from "cloudflare:test";
import { signDeviceToken } from "../../durable/auth.js";
import { type Change, isWholeChange, PROTOCOL_VERSION, type ServerMessage, type WireChange } from "../../protocol/index.js";
import { type Role, uuidv7 } from "../../domain/index.js";
import { Inbox } from "../support/inbox.js";
import type { DeviceClaims } from "../../protocol/token.js";

export const ORIGIN = "https://sync.test";

export async function tokenFor(branch: string, device: string, role: Role = "owner", ttlS = 3600, issuedAgoS = 0): Promise<string> {
  const iat = Math.floor(Date.now() / 1000) - issuedAgoS;
  const claims = { v: 1, branch, device, user: `user-${device.slice(-4)}`, role, iat, exp: iat + ttlS } as DeviceClaims;
  return signDeviceToken(claims, env.TOKEN_SECRET);
}

export const newId = () => uuidv7(Date.now(), (b) => crypto.getRandomValues(b));

export class TestClient {
  readonly inbox = new Inbox();

  constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => this.inbox.frame(event.data as string));
    ws.addEventListener("close", (event) => this.inbox.close(event.code, event.reason));
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  next<T extends ServerMessage["type"]>(type?: T, opts?: { skip?: boolean; timeoutMs?: number }) {
    return this.inbox.next(type, opts);
  }

  waitClosed(timeoutMs?: number) {
    return this.inbox.waitClosed(timeoutMs);
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
/** Connects and completes the handshake; `hello` adds fields to the hello (`{ deltas: true }`). */
export async function connect(branch: string, device: string, role: Role = "owner", cursor = 0, hello: Record<string, unknown> = {}): Promise<TestClient> {
  const client = await openSocket(branch, await tokenFor(branch, device, role));
  if (client instanceof Response) throw new Error(`upgrade refused: ${client.status} ${await client.text()}`);
  client.send({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: device, cursor, app: "workers-test/1", install_id: `0193a000-0000-7000-8000-${device.replace(/-/g, "").slice(-12)}`, clock_ms: Date.now(), ...hello });
  await client.next("welcome");
  return client;
}

/** A change that must be whole: this connection did not ask for deltas (its hello left `deltas` out). */
export function whole(change: WireChange): Change {
  if (!isWholeChange(change)) throw new Error(`change ${change.seq} came as a delta to a connection that did not ask for deltas`);
  return change;
}

/** Pulls every change after `since` over the socket, page by page (whole: this client asks for no deltas). */
export async function pullAll(client: TestClient, since = 0, limit = 1_000) {
  const changes: Change[] = [];
  let cursor = since;
  let pages = 0;
  for (let more = true; more; pages++) {
    client.send({ type: "pull", request_id: crypto.randomUUID(), since: cursor, limit });
    const page = await client.next("changes", { skip: true });
    changes.push(...page.changes.map(whole));
    cursor = page.cursor;
    more = page.more;
  }
  return { changes, cursor, pages };
}
