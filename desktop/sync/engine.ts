/**
 * The sync engine: the sync machine (machines/) run against the real session (partysocket + the
 * local store). Plain Node: the CLI runs it, and the Electron main process will host it.
 */
import { type Actor, createActor } from "xstate";
import { type PublicStatus, publicStatus, syncMachine } from "../../machines/index.js";
import type { Change, Chunk } from "../../schema/index.js";
import type { LocalStore } from "../store/local-store.js";
import { bootstrap, type BootstrapProgress } from "./bootstrap.js";
import { sessionActor } from "./session.js";
import { openPartySocket, type OpenSocket } from "./transport.js";

export interface EngineOptions {
  store: LocalStore;
  app?: string;
  /** The socket factory; defaults to partysocket over `ws`. */
  openSocket?: OpenSocket;
  /** Randomness for backoff jitter (tests make it deterministic). */
  random?: () => number;
  onChanges?: (changes: readonly Change[], origin: "pull" | "live") => void;
  onLog?: (line: string) => void;
  /** Called when a push came back with rejections (the UI shows the conflict inbox). */
  onConflicts?: () => void;
  sliceSize?: number;
  /** Progress of a snapshot bootstrap (a new device starts from the branch's latest snapshot). */
  onBootstrapProgress?: (progress: BootstrapProgress) => void;
}

export const APP_NAME = "studiovault-desktop/0.1.0";
const CONNECT_TIMEOUT_MS = 15_000;
const QUEUE_POLL_MS = 2_000;
const CHECKPOINT_MS = 30_000;

export class SyncEngine {
  readonly #actor: Actor<typeof syncMachine>;
  readonly #uploads = new Map<string, Chunk[]>();

  constructor(private readonly options: EngineOptions) {
    const machine = syncMachine.provide({
      actors: {
        session: sessionActor({
          store: options.store,
          openSocket: options.openSocket ?? openPartySocket(CONNECT_TIMEOUT_MS),
          uploads: this.#uploads,
          app: options.app ?? APP_NAME,
          sliceSize: options.sliceSize,
          onChanges: options.onChanges,
          onLog: options.onLog,
          bootstrap: async () => void (await bootstrap(options.store, { onProgress: options.onBootstrapProgress })),
        }),
      },
      actions: { conflictsRaised: () => options.onConflicts?.() },
    });
    // A device that never synced starts from the branch's snapshot rather than from seq 0.
    const needsBootstrap = options.store.cursor() === 0 && options.store.snapshotSeq() === null;
    this.#actor = createActor(machine, { input: { online: false, needsBootstrap, random: options.random } });
  }

  start(online = true): this {
    this.#actor.start();
    if (online) this.#actor.send({ type: "CONNECTIVITY.ONLINE" });
    // Another process (the CLI beside the app) may write to the same database without telling this
    // engine: look at the queue now and then while live. A COUNT on an index, cheap.
    this.#poll = setInterval(() => {
      if (this.status().kind === "live" && this.options.store.summary().pending > 0) this.notifyWrite();
    }, QUEUE_POLL_MS);
    // Local writes never checkpoint (see LocalStore.open): do it here, in the background.
    this.#checkpoint = setInterval(() => this.options.store.checkpoint(), CHECKPOINT_MS);
    return this;
  }

  stop(): void {
    clearInterval(this.#poll);
    clearInterval(this.#checkpoint);
    this.#actor.stop();
  }

  #poll: ReturnType<typeof setInterval> | undefined;
  #checkpoint: ReturnType<typeof setInterval> | undefined;

  /** A local write queued an event: push it now if live. */
  notifyWrite(): void {
    this.#actor.send({ type: "LOCAL_WRITE" });
  }

  setOnline(online: boolean): void {
    this.#actor.send({ type: online ? "CONNECTIVITY.ONLINE" : "CONNECTIVITY.OFFLINE" });
  }

  retryNow(): void {
    this.#actor.send({ type: "RETRY_NOW" });
  }

  tokenUpdated(): void {
    this.#actor.send({ type: "TOKEN_UPDATED" });
  }

  status(): PublicStatus {
    return publicStatus(this.#actor.getSnapshot());
  }

  subscribe(listener: (status: PublicStatus) => void): () => void {
    const sub = this.#actor.subscribe(() => listener(this.status()));
    return () => sub.unsubscribe();
  }

  /** Every queued event has a verdict, and the device has pulled its own commits back. */
  isDrained(): boolean {
    const store = this.options.store;
    return this.status().kind === "live" && store.summary().pending === 0 && store.cursor() >= store.maxConfirmedSeq();
  }

  /**
   * Resolves when drained; rejects when sync stops for good (auth failure, update required,
   * replaced) or after `timeoutMs`.
   */
  untilDrained(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const status = this.status();
        if (this.isDrained()) return finish(null);
        if (status.kind === "auth_failed") return finish(new Error(`sync stopped: the device token was refused (${status.reason}); run \`studiovault init\` with a new token`));
        if (status.kind === "update_required") return finish(new Error("sync stopped: this app is too old for the server; update it"));
        if (status.kind === "replaced") return finish(new Error("sync stopped: this device connected from somewhere else"));
      };
      const timer = setTimeout(() => finish(new Error(`not drained after ${Math.round(timeoutMs / 1000)} s (status: ${this.status().kind})`)), timeoutMs);
      const interval = setInterval(check, 200);
      const unsubscribe = this.subscribe(check);
      const finish = (error: Error | null) => {
        clearTimeout(timer);
        clearInterval(interval);
        unsubscribe();
        if (error) reject(error);
        else resolve();
      };
      check();
    });
  }
}
