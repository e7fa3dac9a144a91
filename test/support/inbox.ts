/**
 * What a test client received: frames decoded in arrival order, chunked transfers reassembled, and
 * waits for the next message of a type. Runtime-free: used over workerd's WebSocket and over `ws`.
 */
import { ChunkAssembler, decodeServerMessage, type ServerMessage } from "../../protocol/index.js";

export class Inbox {
  readonly #queue: ServerMessage[] = [];
  readonly #assembler = new ChunkAssembler();
  readonly #waiters: Array<() => void> = [];
  #inbound: Promise<void> = Promise.resolve();
  closed: { code: number; reason: string } | null = null;
  failure: Error | null = null;

  /** Call for every frame; frames are processed one after another through a promise chain. */
  frame(data: string): void {
    this.#inbound = this.#inbound.then(() => this.#receive(data)).catch((e: Error) => {
      this.failure = e;
      this.#wake();
    });
  }

  close(code: number, reason: string): void {
    this.closed = { code, reason };
    this.#wake();
  }

  async #receive(data: string): Promise<void> {
    const decoded = decodeServerMessage(data);
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
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  #sleep(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#waiters.push(resolve);
      setTimeout(resolve, 50);
    });
  }

  /**
   * The next message of `type`. Without `skip`, any other message first is an error; with it,
   * other messages are passed over. Rejects on close, on a bad frame, or after `timeoutMs`.
   */
  async next<T extends ServerMessage["type"]>(
    type?: T,
    opts: { skip?: boolean; timeoutMs?: number } = {},
  ): Promise<Extract<ServerMessage, { type: T }>> {
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    for (;;) {
      if (this.failure) throw this.failure;
      while (this.#queue.length > 0) {
        const message = this.#queue.shift()!;
        if (!type || message.type === type) return message as Extract<ServerMessage, { type: T }>;
        if (!opts.skip) throw new Error(`expected ${type}, received ${JSON.stringify(message).slice(0, 300)}`);
      }
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for ${type ?? "a message"}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type ?? "a message"}`);
      await this.#sleep();
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error("socket did not close");
      await this.#sleep();
    }
    return this.closed;
  }
}
