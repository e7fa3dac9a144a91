/**
 * The session: everything the sync machine does on one connection, as an XState callback actor.
 *
 * It opens the socket, speaks protocol v1, applies what arrives to the local store, and reports
 * summarised events (SESSION.*) to the machine, which decides what comes next. Inbound frames and
 * the machine's commands are processed strictly one after another (`#chain`): a PULL must read the
 * cursor after the live changes before it were applied, and verdicts apply in arrival order.
 */
import { fromCallback } from "xstate";
import {
  type Change,
  ChunkAssembler,
  type Chunk,
  decodeServerMessage,
  FRAME_LIMIT_BYTES,
  MAX_ASSEMBLED_MESSAGE_BYTES,
  MAX_PULL_PAGE_CHANGES,
  PROTOCOL_VERSION,
  type ServerMessage,
  splitIntoChunks,
  type TransferId,
  utf8ByteLength,
} from "../../schema/index.js";
import type { SessionCommand, SessionEvent } from "../../machines/index.js";
import type { LocalStore } from "../store/local-store.js";
import { type OpenSocket, type Socket, syncUrl } from "./transport.js";

export interface SessionOptions {
  store: LocalStore;
  openSocket: OpenSocket;
  /** Chunked uploads in progress, by batch id: kept across sessions so an upload resumes. */
  uploads: Map<string, Chunk[]>;
  /** Client identification for the server's audit log. */
  app: string;
  /** Changes applied per transaction before yielding to the event loop (I8). */
  sliceSize?: number;
  /** Every applied change, for `watch` and the UI. */
  onChanges?: (changes: readonly Change[], origin: "pull" | "live") => void;
  /** Diagnostics. */
  onLog?: (line: string) => void;
  /** The snapshot bootstrap (issue 5). Without it BOOTSTRAP succeeds at once and pulling starts at 0. */
  bootstrap?: () => Promise<void>;
  /**
   * Injected for deterministic simulation (STYLE.md §7); the defaults are what the app uses.
   * `yieldToEventLoop`: how applying changes yields between slices (default: `setImmediate`).
   * `newRequestId`: the `request_id` of a pull (default: `crypto.randomUUID`).
   * `pullPageLimit`: `limit` of a pull (default: MAX_PULL_PAGE_CHANGES); smaller pages exercise paging.
   */
  yieldToEventLoop?: () => Promise<void>;
  newRequestId?: () => string;
  pullPageLimit?: number;
}

export const DEFAULT_SLICE_SIZE = 100;
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export function sessionActor(options: SessionOptions) {
  return fromCallback<SessionCommand>(({ sendBack, receive }) => new Session(options, sendBack).start(receive));
}

class Session {
  #socket: Socket | null = null;
  #chain: Promise<void> = Promise.resolve();
  #stopped = false;
  #assembler = new ChunkAssembler();
  /** The batch whose chunks continue from the server's `upload_state` after an `upload_query`. */
  #resuming: string | null = null;
  /**
   * A pull for the next page was sent as soon as a page with `more` arrived, before applying it,
   * so the server builds page k+1 while this device applies page k. The machine's next PULL is
   * then already answered and is not sent again. Any page is valid whenever it is applied: the
   * store applies only the change right after its cursor and stops at a gap, and the machine pulls
   * again from the cursor if the page left it short.
   */
  #prefetching = false;

  constructor(
    private readonly o: SessionOptions,
    private readonly sendBack: (event: SessionEvent) => void,
  ) {}

  start(receive: (listener: (command: SessionCommand) => void) => void): () => void {
    const cfg = this.o.store.config();
    if (!cfg) {
      this.#report({ type: "SESSION.CLOSED", code: 4001, reason: "unauthorized" });
      return () => {};
    }
    this.#socket = this.o.openSocket(syncUrl(cfg.server_url, cfg.branch_id, cfg.token), {
      open: () => this.#report({ type: "SESSION.OPEN" }),
      message: (text) => this.#enqueue(() => this.#frame(text)),
      closed: (code, reason) => this.#report({ type: "SESSION.CLOSED", code, reason }),
    });
    receive((command) => this.#enqueue(() => this.#command(command)));
    return () => {
      this.#stopped = true;
      this.#socket?.close(1000, "client_closed");
    };
  }

  #requestId(): string {
    return this.o.newRequestId?.() ?? crypto.randomUUID();
  }

  #pullLimit(): number {
    return this.o.pullPageLimit ?? MAX_PULL_PAGE_CHANGES;
  }

  #report(event: SessionEvent) {
    if (!this.#stopped) this.sendBack(event);
  }

  #enqueue(work: () => void | Promise<void>) {
    this.#chain = this.#chain.then(work).catch((error: unknown) => {
      // A bug or a broken store: say so and drop the connection; the machine backs off and retries.
      this.o.onLog?.(`session error: ${error instanceof Error ? error.stack : String(error)}`);
      this.#report({ type: "SESSION.ERROR", code: "client_error", message: String(error) });
      this.#socket?.close(1011, "client_error");
    });
  }

  #send(message: unknown) {
    this.#socket?.send(JSON.stringify(message));
  }

  async #command(command: SessionCommand): Promise<void> {
    const store = this.o.store;
    switch (command.type) {
      case "HELLO":
        return this.#send({
          type: "hello",
          protocol_version: PROTOCOL_VERSION,
          device_id: store.deviceId,
          cursor: store.cursor(),
          app: this.o.app,
          // One install per device id (a copied token or database is refused), and this till's clock:
          // a wrong clock would book sales to the wrong day, so the server audits the skew.
          install_id: store.installId(),
          clock_ms: store.nowMs(),
        });
      case "BOOTSTRAP":
        if (!this.o.bootstrap) return this.#report({ type: "SESSION.BOOTSTRAPPED" });
        try {
          await this.o.bootstrap();
          return this.#report({ type: "SESSION.BOOTSTRAPPED" });
        } catch (error) {
          return this.#report({ type: "SESSION.BOOTSTRAP_FAILED", message: String(error) });
        }
      case "PULL":
        if (this.#prefetching) return;
        return this.#send({ type: "pull", request_id: this.#requestId(), since: store.cursor(), limit: this.#pullLimit() });
      case "PUSH_NEXT":
        return this.#pushNext();
      case "PING":
        // The fixed heartbeat frame: answered by the runtime without waking a hibernated branch.
        return this.#send({ type: "ping", nonce: 0 });
      case "CLOSE":
        this.#socket?.close(1000, command.reason);
        return;
    }
  }

  async #pushNext(): Promise<void> {
    const batch = this.o.store.nextBatch();
    if (!batch) return this.#report({ type: "SESSION.QUEUE_EMPTY" });
    const text = JSON.stringify({ type: "push", batch_id: batch.batch_id, events: batch.events });
    if (utf8ByteLength(text) <= FRAME_LIMIT_BYTES) {
      this.#socket?.send(text);
    } else if (this.o.uploads.has(batch.batch_id)) {
      // Part of this upload may already be on the server: ask where to continue.
      this.#resuming = batch.batch_id;
      this.#send({ type: "upload_query", transfer_id: batch.batch_id });
    } else {
      const chunks = await splitIntoChunks(text, batch.batch_id as TransferId);
      this.o.uploads.set(batch.batch_id, chunks);
      for (const chunk of chunks) this.#send(chunk);
    }
    this.o.store.audit("push_sent", `batch ${batch.batch_id}: ${batch.events.length} event(s), ${text.length} characters`);
    this.#report({ type: "SESSION.BATCH_SENT", batchId: batch.batch_id, events: batch.events.length });
  }

  async #frame(text: string): Promise<void> {
    const decoded = decodeServerMessage(text);
    if (!decoded.ok) {
      this.o.onLog?.(`server sent an invalid frame: ${decoded.error.message}`);
      return this.#report({ type: "SESSION.ERROR", code: decoded.error.code, message: decoded.error.message });
    }
    let message: ServerMessage = decoded.value;
    if (message.type === "chunk") {
      const joined = await this.#assembler.accept(message);
      if (!joined.ok) return this.#report({ type: "SESSION.ERROR", code: joined.error.code, message: joined.error.message });
      if (joined.value === null) return;
      const whole = decodeServerMessage(joined.value, MAX_ASSEMBLED_MESSAGE_BYTES);
      if (!whole.ok) return this.#report({ type: "SESSION.ERROR", code: whole.error.code, message: whole.error.message });
      message = whole.value;
    }
    return this.#dispatch(message);
  }

  async #dispatch(message: ServerMessage): Promise<void> {
    const store = this.o.store;
    switch (message.type) {
      case "welcome":
        // The branch's zone decides which calendar day a sale belongs to (I13); it is fixed per
        // branch, so this is a no-op after the first connection.
        store.setTimeZone(message.time_zone);
        store.recordClockSkew(store.nowMs() - message.server_time_ms);
        return this.#report({ type: "SESSION.WELCOME", head: message.head });
      case "changes": {
        this.#prefetching = false;
        const last = message.changes.at(-1);
        if (message.more && last) {
          this.#send({ type: "pull", request_id: this.#requestId(), since: last.seq, limit: this.#pullLimit() });
          this.#prefetching = true;
        }
        await this.#applyInSlices(message.changes, "pull");
        return this.#report({ type: "SESSION.PAGE_APPLIED", cursor: store.cursor(), more: message.more });
      }
      case "live": {
        const first = message.changes[0]!;
        if (first.seq > store.cursor() + 1) return this.#report({ type: "SESSION.GAP" });
        await this.#applyInSlices(message.changes, "live");
        // A hole inside the message (never expected) is handled like any gap: pull.
        if (store.cursor() < message.head) return this.#report({ type: "SESSION.GAP" });
        return this.#report({ type: "SESSION.LIVE_APPLIED", cursor: store.cursor() });
      }
      case "poke":
        if (message.head > store.cursor()) this.#report({ type: "SESSION.GAP" });
        return;
      case "verdicts": {
        const summary = store.applyVerdicts(message.batch_id, message.verdicts);
        const complete = summary.open_in_batch === 0;
        if (complete) this.o.uploads.delete(message.batch_id);
        return this.#report({
          type: "SESSION.VERDICTS_APPLIED",
          batchId: message.batch_id,
          confirmed: summary.confirmed,
          rejected: summary.rejected,
          complete,
        });
      }
      case "upload_state": {
        if (this.#resuming !== message.transfer_id) return;
        this.#resuming = null;
        const chunks = this.o.uploads.get(message.transfer_id) ?? [];
        for (const chunk of chunks.slice(message.next_index)) this.#send(chunk);
        return;
      }
      case "error":
        // A non-fatal error answers the oldest unanswered frame, which may be a prefetched pull:
        // let the machine's next PULL go out.
        this.#prefetching = false;
        this.o.onLog?.(`server error ${message.code}${message.fatal ? " (fatal)" : ""}: ${message.message}`);
        if (message.code === "transfer_expired" || message.code === "checksum_mismatch" || message.code === "chunk_invalid") {
          // The upload cannot continue as it is: forget it; the batch is sent again from scratch.
          for (const id of [...this.o.uploads.keys()]) this.o.uploads.delete(id);
          this.#socket?.close(1000, "upload_restart");
        }
        return this.#report({ type: "SESSION.ERROR", code: message.code, message: message.message });
      case "pong":
      case "chunk":
        return;
    }
  }

  /** Applies changes a slice per transaction, yielding between slices so the UI never stalls (I8). */
  async #applyInSlices(changes: readonly Change[], origin: "pull" | "live"): Promise<number> {
    const size = this.o.sliceSize ?? DEFAULT_SLICE_SIZE;
    let applied = 0;
    for (let i = 0; i < changes.length; i += size) {
      const slice = changes.slice(i, i + size);
      const result = this.o.store.applyChanges(slice);
      applied += result.applied;
      if (result.applied > 0) this.o.onChanges?.(slice, origin);
      if (i + size < changes.length) await (this.o.yieldToEventLoop ?? yieldToEventLoop)();
    }
    return applied;
  }
}
