/**
 * The branch under simulation: the real BranchCore on better-sqlite3 behind the real BranchRoom, as
 * the Durable Object runs them, with the simulated clock and the simulated network as its host.
 */
import { nodeSqlStore } from "../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../durable/core/branch.js";
import type { LeaseAnswer } from "../../durable/core/leases.js";
import type { LeaseRequest } from "../../protocol/index.js";
import { BranchRoom } from "../../durable/core/room.js";
import { type BranchId, type TransferId, uuidv7 } from "../../domain/index.js";
import type { Network } from "./network.js";
import type { Prng } from "../support/prng.js";
import type { Scheduler } from "./scheduler.js";

export const SIM_BRANCH = "sim-branch";

/**
 * One lease request the branch answered, as the simulation saw it happen: when (simulated ms), the
 * branch's head then (commits up to it came before, later ones after), who asked what, and the answer.
 */
export interface LeaseLogEntry {
  atMs: number;
  head: number;
  device_id: string;
  request: LeaseRequest;
  result: LeaseAnswer["result"];
}

export class SimBranch {
  readonly sql = nodeSqlStore(":memory:");
  core!: BranchCore;
  room!: BranchRoom;
  /** What the room logged: it logs only internal errors, each one a broken boundary (I12). */
  readonly internalErrors: string[] = [];
  /** Every lease request answered, in order, across restarts: what the `lease` invariant checks commits against. */
  readonly leaseLog: LeaseLogEntry[] = [];
  restarts = 0;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly network: Network,
    private readonly prng: Prng,
    private readonly timeZone: string,
  ) {
    this.#start();
  }

  #start(): void {
    // A restarted Durable Object keeps its storage and nothing else: a new core and room over the same SQLite.
    const core = new BranchCore(this.sql, SIM_BRANCH as BranchId, () => this.scheduler.now, { defaultTimeZone: this.timeZone });
    // Passive: each answer is recorded as given, nothing else changes.
    const answer = core.lease.bind(core);
    core.lease = (actor, request) => {
      const head = core.head();
      const answered = answer(actor, request);
      this.leaseLog.push({ atMs: this.scheduler.now, head, device_id: actor.device_id, request, result: answered.result });
      return answered;
    };
    this.core = core;
    this.room = new BranchRoom(this.core, {
      peers: () => this.network.openPeers(),
      newTransferId: () => uuidv7(this.scheduler.now, (b) => this.prng.fill(b)) as TransferId,
      // The alarm: only leases need one here (uploads are not simulated, snapshots are not exported).
      // It ends the leases whose time is up and tells the devices, like the Durable Object's onAlarm.
      wakeAt: (ms) =>
        void this.scheduler.at(ms, "branch alarm", () => {
          this.core.expireLeases();
          void this.room.tellWatchers();
        }),
      log: (message, error) => void this.internalErrors.push(`${message}: ${error instanceof Error ? error.stack : String(error)}`),
    });
    this.network.room = this.room;
  }

  /** The Durable Object is evicted or redeployed: every connection drops; storage survives. */
  restart(): void {
    this.restarts++;
    this.network.dropAll("server restart");
    this.#start();
  }

  close(): void {
    this.sql.close();
  }
}
