/**
 * The room's behavioural contract: what a client sees over its socket, whatever runs the room. Run
 * by test/node/branch/room.test.ts against the in-memory room (test/support/memory-room.ts) and by
 * test/workers/room.test.ts against the real Durable Object through the Worker in workerd.
 *
 * Only the socket is observed (frames in, frames out, the close): nothing here may reach into
 * storage, the clock or the host, so that both drivers can honestly run every case. Cases that need
 * the inside of the branch (its audit, its SQL, a moved clock) stay in room.test.ts.
 *
 * Runtime-free (no Node or Workers API): both vitest projects import it.
 */
import { beforeEach, afterEach, describe, expect, it } from "vitest";
import { CLOSE_CODES, FRAME_LIMIT_BYTES, PROTOCOL_VERSION, type ServerMessage, splitIntoChunks, Welcome } from "../../../../protocol/index.js";
import { type Role, StudioDetails, type TransferId } from "../../../../domain/index.js";
import { Inbox } from "../../../support/inbox.js";
import { makeEventFactory } from "../../../support/events.js";

/** One client socket as a test sees it: what it sends, every frame it received (raw), and its close. */
export class ContractSocket {
  readonly frames: string[] = [];
  readonly #inbox = new Inbox();

  constructor(private readonly transmit: (text: string) => void) {}

  #rawWelcome = false;

  /**
   * An older client's welcome lacks today's fields, so today's decoder (the inbox) would refuse it:
   * a test reads it raw (`frame(0)`) and the inbox starts at the frame after it.
   */
  welcomeIsRaw(): void {
    this.#rawWelcome = true;
  }

  /** The driver calls this for every frame the server sent, in order. */
  received(text: string): void {
    this.frames.push(text);
    if (this.#rawWelcome && this.frames.length === 1) return;
    this.#inbox.frame(text);
  }

  /** The driver calls this when the server closed the socket. */
  closed(code: number, reason: string): void {
    this.#inbox.close(code, reason);
  }

  send(message: unknown): void {
    this.transmit(typeof message === "string" ? message : JSON.stringify(message));
  }

  next<T extends ServerMessage["type"]>(type?: T, opts?: { skip?: boolean; timeoutMs?: number }) {
    return this.#inbox.next(type, opts);
  }

  waitClosed() {
    return this.#inbox.waitClosed();
  }

  /** The `index`th frame received, raw (for shapes an older client reads, which today's decoder would not). */
  async frame(index: number, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    for (let waited = 0; this.frames.length <= index; waited += 10) {
      if (waited > timeoutMs) throw new Error(`no frame ${index} after ${timeoutMs} ms (received ${this.frames.length})`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return JSON.parse(this.frames[index]!) as Record<string, unknown>;
  }
}

export interface RoomDriver {
  /** The zone a new branch takes on this server. */
  readonly timeZone: string;
  /** The studio name a new branch takes on this server (its STUDIO_NAME, else the branch id). */
  readonly studioName: string;
  /** The server's clock, for a hello's clock_ms. */
  nowMs(): number;
  /** A socket whose device token (for `device`, with `role`) was verified, before its hello. */
  open(device: string, role?: Role): Promise<ContractSocket>;
  dispose(): void | Promise<void>;
}

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const C = "01936f3c-0000-7000-8000-0000000000c3";
/** Each device's own install, unless a case says otherwise. */
const installOf = (device: string) => `0193a000-0000-7000-8000-${device.slice(-12)}`;

export function roomContract(name: string, makeDriver: () => RoomDriver | Promise<RoomDriver>): void {
  describe(`the room contract: ${name}`, () => {
    let d: RoomDriver;
    let f: ReturnType<typeof makeEventFactory>;
    beforeEach(async () => {
      d = await makeDriver();
      f = makeEventFactory(9);
    });
    afterEach(() => d.dispose());

    const hello = (device: string, protocol_version: number = PROTOCOL_VERSION, install = installOf(device)) =>
      protocol_version >= 3
        ? { type: "hello", protocol_version, device_id: device, cursor: 0, app: "test/1", install_id: install, clock_ms: d.nowMs() }
        : { type: "hello", protocol_version, device_id: device, cursor: 0, app: "test/1" };
    const open = async (device: string, role: Role = "owner", version: number = PROTOCOL_VERSION) => {
      const socket = await d.open(device, role);
      if (version < PROTOCOL_VERSION) socket.welcomeIsRaw();
      socket.send(hello(device, version));
      if (version < PROTOCOL_VERSION) await socket.frame(0);
      else await socket.next("welcome");
      return socket;
    };
    /** A push too large for one frame: a project with 20,000 selected media items. */
    const bigPush = (count = 20_000) => {
      const items = Array.from({ length: count }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.CR3`, size_bytes: i, note: null }));
      const event = { ...f.createProject(A), payload: { ...(f.createProject(A).payload as object), media_selection: { items } } };
      return { event, text: JSON.stringify({ type: "push", batch_id: f.nextId(), events: [event] }) };
    };
    /**
     * Sends an upload's chunks back to back, as the desktop does. Over the workers test pool they may
     * reach the Durable Object out of order (its wrapper awaits an RPC before each event), which an
     * upload allows: its pieces are stored by index, whatever order they arrive in.
     */
    const sendChunks = (socket: ContractSocket, chunks: readonly unknown[]) => {
      for (const chunk of chunks) socket.send(chunk);
    };
    const pullHead = async (socket: ContractSocket) => {
      socket.send({ type: "pull", request_id: f.nextId(), since: 0, limit: 10 });
      const page = await socket.next("changes", { skip: true });
      return { head: page.head, changes: page.changes.length };
    };

    describe("handshake", () => {
      it("welcomes a hello with the branch head, the role and the limits", async () => {
        const socket = await d.open(A, "cashier");
        socket.send(hello(A));
        const welcome = await socket.next("welcome");
        expect(welcome).toMatchObject({ protocol_version: PROTOCOL_VERSION, device_id: A, role: "cashier", head: 0, time_zone: d.timeZone });
        expect(welcome.limits.frame_limit_bytes).toBe(FRAME_LIMIT_BYTES);
        // v5: the studio that heads the device's receipts and invoices, the server's default until a manager sets it.
        expect(welcome.studio.name).toBe(d.studioName);
        expect(StudioDetails.safeParse(welcome.studio).success).toBe(true);
        // v7: the leases in force (none on a new branch).
        expect(welcome.leases).toEqual([]);
      });

      it.each([3, 4])("speaks v%i to a client of that version: exactly v4's welcome, without v5's studio", async (version) => {
        const socket = await open(A, "cashier", version);
        const welcome = await socket.frame(0);
        expect(welcome).toMatchObject({ type: "welcome", time_zone: d.timeZone, server_time_ms: expect.any(Number) });
        expect(welcome).not.toHaveProperty("studio");
        expect(Welcome.omit({ studio: true, leases: true }).strict().safeParse(welcome).success).toBe(true);
      });

      it.each([5, 6])("speaks v%i to a client of that version: exactly v6's welcome, without v7's leases", async (version) => {
        const socket = await open(A, "cashier", version);
        const welcome = await socket.frame(0);
        expect(welcome).toMatchObject({ type: "welcome", studio: { name: d.studioName } });
        expect(welcome).not.toHaveProperty("leases");
        expect(Welcome.omit({ leases: true }).strict().safeParse(welcome).success).toBe(true);
      });

      it.each([
        [0, "protocol_too_old"],
        [PROTOCOL_VERSION + 1, "protocol_too_new"],
      ] as const)("closes a hello of protocol %i with %s", async (version, reason) => {
        const socket = await d.open(A);
        socket.send(hello(A, version));
        expect(await socket.next("error")).toMatchObject({ code: reason, fatal: true });
        expect(await socket.waitClosed()).toEqual({ code: CLOSE_CODES[reason], reason });
      });

      it("reads the version of a future hello whose other fields v1 does not know", async () => {
        const socket = await d.open(A);
        socket.send({ type: "hello", protocol_version: PROTOCOL_VERSION + 1, device: A, capabilities: ["x"] });
        expect(await socket.waitClosed()).toEqual({ code: 4011, reason: "protocol_too_new" });
      });

      it("still speaks v1 to a v1 client: its welcome has exactly v1's fields, and sync works", async () => {
        const socket = await open(A, "cashier", 1);
        const welcome = await socket.frame(0);
        expect(welcome).not.toHaveProperty("time_zone");
        expect(welcome).not.toHaveProperty("server_time_ms");
        // v1's welcome is today's without the later fields, strict: a v1 client refuses unknown fields.
        expect(Welcome.omit({ time_zone: true, server_time_ms: true, studio: true, leases: true }).strict().safeParse(welcome).success).toBe(true);
        socket.send({ type: "pull", request_id: "0193a000-0000-7000-8000-000000000001", since: 0, limit: 10 });
        expect((await socket.frame(1)).type).toBe("changes");
      });

      it("speaks v2 to a v2 client: time_zone, but not v3's server_time_ms", async () => {
        const socket = await open(A, "cashier", 2);
        const welcome = await socket.frame(0);
        expect(welcome).toMatchObject({ type: "welcome", time_zone: d.timeZone });
        expect(Welcome.omit({ server_time_ms: true, studio: true, leases: true }).strict().safeParse(welcome).success).toBe(true);
      });

      it("refuses anything before hello, and a second hello", async () => {
        const early = await d.open(A);
        early.send({ type: "ping", nonce: 1 });
        expect(await early.waitClosed()).toEqual({ code: 4012, reason: "handshake_required" });
        const twice = await open(B);
        twice.send(hello(B));
        expect(await twice.waitClosed()).toEqual({ code: 4012, reason: "handshake_required" });
      });

      it("refuses a hello naming another device than the token", async () => {
        const socket = await d.open(A);
        socket.send(hello(B));
        expect(await socket.waitClosed()).toEqual({ code: 4003, reason: "forbidden" });
      });

      it("closes the older connection when the same install connects again, as superseded (not terminal)", async () => {
        const first = await open(A);
        await open(A);
        expect(await first.waitClosed()).toEqual({ code: 4019, reason: "superseded" });
      });

      it("refuses another install of the same device id and keeps the real one connected (a copied token)", async () => {
        const real = await open(A);
        const thief = await d.open(A);
        thief.send(hello(A, PROTOCOL_VERSION, "0193a000-0000-7000-8000-0000000000ff"));
        expect(await thief.waitClosed()).toEqual({ code: 4018, reason: "install_conflict" });
        real.send({ type: "ping", nonce: 3 });
        expect(await real.next("pong")).toEqual({ type: "pong", nonce: 3 });
      });

      it("a v3 hello without install_id or clock_ms is refused", async () => {
        const socket = await d.open(A);
        socket.send({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: A, cursor: 0, app: "test/1" });
        expect(await socket.waitClosed()).toEqual({ code: 4012, reason: "handshake_required" });
      });
    });

    describe("bad frames", () => {
      it("answers a malformed or oversize frame with a clear error and changes nothing", async () => {
        const socket = await open(A);
        socket.send("{");
        expect(await socket.next("error")).toMatchObject({ code: "malformed_message", fatal: false });
        socket.send("x".repeat(FRAME_LIMIT_BYTES + 1));
        expect(await socket.next("error")).toMatchObject({
          code: "frame_too_large",
          fatal: false,
          message: `frame is ${FRAME_LIMIT_BYTES + 1} bytes; the limit is ${FRAME_LIMIT_BYTES} bytes`,
        });
        socket.send({ type: "push", batch_id: f.nextId(), events: [] });
        expect(await socket.next("error")).toMatchObject({ code: "malformed_message", fatal: false });
        expect(await pullHead(socket)).toEqual({ head: 0, changes: 0 });
      });

      it("closes a connection that sends nothing but garbage", async () => {
        const socket = await open(A);
        for (let i = 0; i < 8; i++) socket.send("garbage");
        expect(await socket.waitClosed()).toEqual({ code: 4013, reason: "protocol_violation" });
      });

      it("a chunk whose data is not base64 is chunk_invalid, as documented", async () => {
        const socket = await open(A);
        const [chunk] = await splitIntoChunks(bigPush().text, f.nextId() as TransferId);
        socket.send({ ...chunk, data: "not base64!" });
        expect(await socket.next("error")).toMatchObject({ code: "chunk_invalid", fatal: false });
      });
    });

    describe("push, verdicts and live fan-out", () => {
      it("answers the pusher with verdicts, then sends every open connection the live changes", async () => {
        const a = await open(A);
        const b = await open(B);
        const create = f.createProject(A);
        a.send({ type: "push", batch_id: f.nextId(), events: [create] });
        expect((await a.next("verdicts")).verdicts[0]).toMatchObject({ status: "confirmed", seq: 1 });
        await a.next("live");
        const live = await b.next("live");
        expect(live.changes[0]).toMatchObject({ seq: 1, event_id: create.id, device_id: A, entity: { version: 1 } });
        expect(live.head).toBe(1);
      });

      it("commits a push too large for one frame sent in chunks, once", async () => {
        const a = await open(A);
        const { event, text } = bigPush();
        sendChunks(a, await splitIntoChunks(text, f.nextId() as TransferId));
        expect((await a.next("verdicts", { skip: true })).verdicts).toMatchObject([{ event_id: event.id, status: "confirmed", seq: 1 }]);
      });

      it("refuses a chunk whose data does not match its checksum, and a whole that does not", async () => {
        const { text } = bigPush();
        const chunks = await splitIntoChunks(text, f.nextId() as TransferId);
        const socket = await open(A);
        const flipped = { ...chunks[0]!, data: (chunks[0]!.data[0] === "A" ? "B" : "A") + chunks[0]!.data.slice(1) };
        socket.send(flipped);
        expect(await socket.next("error")).toMatchObject({ code: "checksum_mismatch", fatal: false });
        sendChunks(socket, chunks.map((c) => ({ ...c, sha256: "0".repeat(64) })));
        expect(await socket.next("error", { skip: true })).toMatchObject({ code: "checksum_mismatch" });
        expect(await pullHead(socket)).toEqual({ head: 0, changes: 0 });
      });
    });

    describe("errors name the request they answer (v4 in_reply_to)", () => {
      it("a v4 client's error names the pull, the push or the chunk it answers", async () => {
        const socket = await open(A);
        const requestId = f.nextId();
        socket.send({ type: "pull", request_id: requestId, since: 0, limit: 0 });
        expect(await socket.next("error")).toMatchObject({ code: "malformed_message", in_reply_to: requestId });
        const batchId = f.nextId();
        socket.send({ type: "push", batch_id: batchId, events: [] });
        expect(await socket.next("error")).toMatchObject({ code: "malformed_message", in_reply_to: batchId });
        const transfer = f.nextId() as TransferId;
        const [chunk] = await splitIntoChunks(bigPush().text, transfer);
        socket.send({ ...chunk, data: "not base64!" });
        expect(await socket.next("error")).toMatchObject({ code: "chunk_invalid", in_reply_to: transfer });
      });

      it("is null when the frame could not be read that far, and on a fatal close", async () => {
        const socket = await open(A);
        socket.send("{");
        expect(await socket.next("error")).toMatchObject({ code: "malformed_message", in_reply_to: null });
        socket.send({ type: "teleport", request_id: f.nextId() });
        expect(await socket.next("error")).toMatchObject({ code: "malformed_message", in_reply_to: null });
        socket.send({ type: "pull", request_id: "not-a-uuid", since: 0, limit: 1 });
        expect(await socket.next("error")).toMatchObject({ code: "malformed_message", in_reply_to: null });
        socket.send(hello(A));
        expect(await socket.next("error")).toMatchObject({ code: "handshake_required", fatal: true, in_reply_to: null });
      });

      it("a reassembled upload that is not a push is answered with its batch id if readable, else the transfer id", async () => {
        const socket = await open(A);
        const batchId = f.nextId();
        const notAPush = JSON.stringify({ type: "push", batch_id: batchId, events: [], pad: "x".repeat(100) });
        for (const c of await splitIntoChunks(notAPush, f.nextId() as TransferId)) socket.send(c);
        expect(await socket.next("error", { skip: true })).toMatchObject({ code: "malformed_message", in_reply_to: batchId });
        const transfer = f.nextId() as TransferId;
        for (const c of await splitIntoChunks("not json at all", transfer)) socket.send(c);
        expect(await socket.next("error", { skip: true })).toMatchObject({ code: "malformed_message", in_reply_to: transfer });
      });

      it("a v3 client's errors carry no in_reply_to field at all", async () => {
        const socket = await open(A, "owner", 3);
        socket.send({ type: "pull", request_id: f.nextId(), since: 0, limit: 0 });
        const error = await socket.next("error");
        expect(error).toMatchObject({ code: "malformed_message", fatal: false });
        expect(JSON.parse(socket.frames.at(-1)!)).not.toHaveProperty("in_reply_to");
        socket.send({ ...(await splitIntoChunks(bigPush().text, f.nextId() as TransferId))[0], data: "not base64!" });
        await socket.next("error");
        expect(JSON.parse(socket.frames.at(-1)!)).not.toHaveProperty("in_reply_to");
      });
    });

    describe("a rejection says who made the server's version (v5 last_change)", () => {
      it("names the user, device, time, operation and reason of the commit that made it, the same on a replay", async () => {
        const b = await open(B);
        const project = f.createProject(B);
        const remove = f.deleteProject(B, project.entity_id, { base: 1 });
        b.send({ type: "push", batch_id: f.nextId(), events: [project, remove] });
        expect((await b.next("verdicts")).verdicts.map((v) => v.status)).toEqual(["confirmed", "confirmed"]);
        b.send({ type: "pull", request_id: f.nextId(), since: 0, limit: 10 });
        const deleted = (await b.next("changes", { skip: true })).changes[1]!;
        const a = await open(A, "staff");
        const edit = f.updateProject(A, project.entity_id, { title: "Mine" }, { base: 1 });
        const missing = f.updateProject(A, f.nextId(), { title: "Nowhere" }, { base: 1 });
        const push = { type: "push", batch_id: f.nextId(), events: [edit, missing] };
        a.send(push);
        const first = (await a.next("verdicts", { skip: true })).verdicts;
        expect(first[0]).toMatchObject({
          status: "rejected",
          code: "entity_deleted",
          last_change: { seq: deleted.seq, user_id: deleted.user_id, device_id: B, committed_at: deleted.committed_at, operation: "delete", reason: "cancelled" },
        });
        expect(first[1]).toMatchObject({ status: "rejected", code: "entity_not_found", last_change: null });
        a.send(push);
        expect((await a.next("verdicts", { skip: true })).verdicts).toEqual(first);
      });

      it("travels with the server's entity and under its rule: once per version per push, never with permission_denied", async () => {
        const b = await open(B);
        const project = f.createProject(B);
        b.send({ type: "push", batch_id: f.nextId(), events: [project, f.deleteProject(B, project.entity_id, { base: 1 })] });
        await b.next("verdicts");
        const staff = await open(A, "staff");
        const twice = [f.updateProject(A, project.entity_id, { title: "One" }, { base: 1 }), f.updateProject(A, project.entity_id, { title: "Two" }, { base: 1 })];
        staff.send({ type: "push", batch_id: f.nextId(), events: twice });
        const [first, second] = (await staff.next("verdicts", { skip: true })).verdicts;
        expect(first).toMatchObject({ code: "entity_deleted", server_entity: { deleted: true }, last_change: { operation: "delete" } });
        expect(second).toMatchObject({ code: "entity_deleted", server_entity: null, last_change: null });
        // A viewer's refusal sends nothing of the server's back: no entity, no who-made-it (no amplification).
        const viewer = await open(C, "viewer");
        viewer.send({ type: "push", batch_id: f.nextId(), events: [f.updateProject(C, project.entity_id, { title: "Mine" }, { base: 2 })] });
        expect((await viewer.next("verdicts", { skip: true })).verdicts).toMatchObject([{ code: "permission_denied", server_entity: null, last_change: null }]);
      });

      it("a v4 client's rejections carry no last_change field at all", async () => {
        const b = await open(B);
        const project = f.createProject(B);
        b.send({ type: "push", batch_id: f.nextId(), events: [project, f.deleteProject(B, project.entity_id, { base: 1 })] });
        await b.next("verdicts");
        const a = await open(A, "owner", 4);
        a.send({ type: "push", batch_id: f.nextId(), events: [f.updateProject(A, project.entity_id, { title: "Mine" }, { base: 1 })] });
        await a.next("verdicts", { skip: true });
        const verdict = (JSON.parse(a.frames.at(-1)!) as { verdicts: Array<Record<string, unknown>> }).verdicts[0]!;
        expect(verdict).toMatchObject({ status: "rejected", code: "entity_deleted" });
        expect(Object.keys(verdict).sort()).toEqual(["code", "detail", "event_id", "message", "server_entity", "status"]);
      });
    });

    describe("the dashboard feed (v6): watch, watching, observed", () => {
      it("a viewer watches: every device now, then each hello, status and rejection as it happens", async () => {
        const viewer = await open(C, "viewer");
        const request = f.nextId();
        viewer.send({ type: "watch", request_id: request });
        const watching = await viewer.next("watching");
        expect(watching).toMatchObject({ request_id: request, head: 0, audit_head: expect.any(Number) });
        expect(watching.devices).toEqual([expect.objectContaining({ device_id: C, role: "viewer", connected: true, protocol_version: PROTOCOL_VERSION })]);

        const till = await open(A, "owner");
        const arrived = await viewer.next("observed");
        expect(arrived.devices).toEqual([expect.objectContaining({ device_id: A, connected: true, app: "test/1", cursor: 0 })]);
        expect(arrived.rejections).toEqual([]);

        till.send({ type: "status", cursor: 0, queue: { pending: 3, oldest_pending_age_ms: 5_000 } });
        const reported = await viewer.next("observed");
        expect(reported.devices).toEqual([expect.objectContaining({ device_id: A, pending: 3, oldest_pending_at: expect.any(String), reported_at: expect.any(String) })]);

        const project = f.createProject(A);
        till.send({ type: "push", batch_id: f.nextId(), events: [project, f.updateProject(A, project.entity_id, { title: "Late" }, { base: 7 })] });
        await till.next("verdicts");
        // A watcher is a connection like any other: it gets the live change, then what the push decided.
        expect((await viewer.next("live")).head).toBe(1);
        const decided = await viewer.next("observed");
        expect(decided).toMatchObject({ head: 1, more_rejections: false, devices: [] });
        expect(decided.rejections).toEqual([expect.objectContaining({ code: "version_conflict", device_id: A, entity_id: project.entity_id, operation: "update", entity_type: "project" })]);
        expect(decided.audit_head).toBeGreaterThan(arrived.audit_head);
      });

      it("a hello's queue is reported at once: a till arriving with a backlog is observed with it", async () => {
        const viewer = await open(C, "viewer");
        viewer.send({ type: "watch", request_id: f.nextId() });
        await viewer.next("watching");
        const till = await d.open(A, "cashier");
        till.send({ ...hello(A), queue: { pending: 12, oldest_pending_age_ms: 3_600_000 } });
        await till.next("welcome");
        const [device] = (await viewer.next("observed")).devices;
        expect(device).toMatchObject({ device_id: A, connected: true, pending: 12 });
        expect(Date.parse(device!.reported_at!) - Date.parse(device!.oldest_pending_at!)).toBe(3_600_000);
      });

      it("a cashier may not watch: a non-fatal forbidden answering its request, and the connection goes on", async () => {
        const cashier = await open(B, "cashier");
        const request = f.nextId();
        cashier.send({ type: "watch", request_id: request });
        expect(await cashier.next("error")).toMatchObject({ code: "forbidden", fatal: false, in_reply_to: request });
        cashier.send({ type: "ping", nonce: 3 });
        expect(await cashier.next("pong")).toEqual({ type: "pong", nonce: 3 });
        // A status with a cursor the branch never reached is refused the same way, not stored.
        cashier.send({ type: "status", cursor: 99, queue: { pending: 0, oldest_pending_age_ms: null } });
        expect(await cashier.next("error")).toMatchObject({ code: "malformed_message", fatal: false, message: "cursor: 99 is beyond the branch's head 0" });
      });

      it("a client of protocol 5 is sent none of it: its watch is an error", async () => {
        const old = await open(A, "owner", 5);
        old.send({ type: "watch", request_id: f.nextId() });
        const error = await old.frame(1);
        expect(error).toMatchObject({ type: "error", code: "malformed_message", fatal: false, message: "watch is protocol 6; this connection said hello with protocol 5" });
      });
    });
  });
}
