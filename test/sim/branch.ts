/**
 * The branch under simulation: the real BranchCore on better-sqlite3 behind the real BranchRoom, as
 * the Durable Object runs them, with the simulated clock and the simulated network as its host.
 */
import { nodeSqlStore } from "../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../durable/core/branch.js";
import { BranchRoom } from "../../durable/core/room.js";
import { type BranchId, type TransferId, uuidv7 } from "../../domain/index.js";
import type { Network } from "./network.js";
import type { Prng } from "../support/prng.js";
import type { Scheduler } from "./scheduler.js";

export const SIM_BRANCH = "sim-branch";

export class SimBranch {
  readonly sql = nodeSqlStore(":memory:");
  core!: BranchCore;
  room!: BranchRoom;
  /** What the room logged: it logs only internal errors, each one a broken boundary (I12). */
  readonly internalErrors: string[] = [];
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
    this.core = new BranchCore(this.sql, SIM_BRANCH as BranchId, () => this.scheduler.now, { defaultTimeZone: this.timeZone });
    this.room = new BranchRoom(this.core, {
      peers: () => this.network.openPeers(),
      newTransferId: () => uuidv7(this.scheduler.now, (b) => this.prng.fill(b)) as TransferId,
      wakeAt: () => {},
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
