/**
 * The branch room over in-memory sockets on a real SQLite core: the same BranchRoom the Durable
 * Object runs, with peers whose outgoing frames are collected for the test to read (tldraw-style).
 */
import { BranchRoom, type Peer, type Session } from "../../durable/core/room.js";
import { ContractSocket, type RoomDriver } from "../node/branch/contract/room-contract.js";
import { ChunkAssembler, decodeServerMessage, type ServerMessage } from "../../protocol/index.js";
import { type Role, type TransferId } from "../../domain/index.js";
import { makeCore } from "./branch.js";
import { idGenerator } from "./events.js";

export class MemoryPeer implements Peer {
  #session: Session | null = null;
  readonly sent: string[] = [];
  closed: { code: number; reason: string } | null = null;
  #assembler = new ChunkAssembler();
  #read = 0;

  constructor(
    readonly id: string,
    private readonly room: BranchRoom,
    /** Also told every frame and the close (the contract suite's socket). */
    private readonly listener?: ContractSocket,
  ) {}

  /** Like partyserver's `connection.state`, the session outlives the close: the room must not act on it. */
  session() {
    return this.#session;
  }
  setSession(session: Session) {
    this.#session = session;
  }
  send(text: string) {
    if (this.closed) return;
    this.sent.push(text);
    this.listener?.received(text);
  }
  close(code: number, reason: string) {
    if (this.closed) return;
    this.closed = { code, reason };
    this.listener?.closed(code, reason);
  }

  /** What the client sends. */
  deliver(message: unknown): Promise<void> {
    return this.room.message(this, typeof message === "string" ? message : JSON.stringify(message));
  }

  /** Messages the server sent since the last read, with chunked transfers reassembled. */
  async received(): Promise<ServerMessage[]> {
    const out: ServerMessage[] = [];
    for (; this.#read < this.sent.length; this.#read++) {
      const decoded = decodeServerMessage(this.sent[this.#read]!);
      if (!decoded.ok) throw new Error(`server sent an invalid frame: ${decoded.error.message}`);
      if (decoded.value.type !== "chunk") {
        out.push(decoded.value);
        continue;
      }
      const joined = await this.#assembler.accept(decoded.value);
      if (!joined.ok) throw new Error(joined.error.message);
      if (joined.value !== null) {
        const whole = decodeServerMessage(joined.value, Number.MAX_SAFE_INTEGER);
        if (!whole.ok) throw new Error(whole.error.message);
        out.push(whole.value);
      }
    }
    return out;
  }
}

export function makeRoom(path = ":memory:") {
  const t = makeCore(path);
  const peers = new Set<MemoryPeer>();
  const nextId = idGenerator(7);
  const logs: string[] = [];
  const room = new BranchRoom(t.core, {
    peers: () => [...peers].filter((p) => !p.closed),
    newTransferId: () => nextId() as TransferId,
    wakeAt: () => {},
    log: (message, error) => void logs.push(`${message}: ${String(error)}`),
  });
  let n = 0;
  const connect = (device: string, role: Role = "owner", expiresInS = 3600, listener?: ContractSocket) => {
    const peer = new MemoryPeer(`peer-${++n}`, room, listener);
    peers.add(peer);
    const iat = Math.floor(t.core.nowMs() / 1000);
    room.connect(peer, { v: 1, branch: "test-branch", device, user: "u1", role, iat, exp: iat + expiresInS } as never);
    return peer;
  };
  return { ...t, room, connect, logs };
}

/**
 * The room contract's driver over the in-memory room: a client's frame is delivered to the room as
 * the Durable Object's onMessage would (one at a time, in order); what the room sends reaches the
 * client's socket at once.
 */
export function memoryRoomDriver(): RoomDriver {
  const r = makeRoom();
  return {
    timeZone: "UTC",
    studioName: "test-branch", // no STUDIO_NAME: the branch id
    nowMs: () => r.core.nowMs(),
    open: async (device, role) => {
      let peer: MemoryPeer | null = null;
      const socket = new ContractSocket((text) => void peer!.deliver(text));
      peer = r.connect(device, role, 3600, socket);
      return socket;
    },
    dispose: () => r.close(),
  };
}
