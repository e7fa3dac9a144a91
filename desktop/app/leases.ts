/**
 * Leases as the app shows them (protocol v7, issue 17): which leases are in force on the branch and
 * who holds them, in words, counted down on the engine's monotonic clock; and the leases this till
 * holds while its user edits a guarded field group, renewed before they end and released when the
 * edit ends.
 *
 * A lease is advice the branch enforces at push time, never a lock on this till: whatever the
 * branch answers (refused, offline, timed out), local editing goes on; the person is only told.
 */
import type { LeaseGroup } from "../../domain/index.js";
import { LEASE_GROUPS } from "../../domain/lease-groups.js";
import type { Lease } from "../../protocol/index.js";
import { type LeaseAnswer, leaseRemainingMs, type LeasesSeen, LEASE_WORDS, type LeaseTimers } from "../sync/leases.js";
import type { LeaseHoldView, LeasesView, LeaseView } from "./api.js";

/**
 * How long each lease this till asks for lasts: the protocol's default. Long enough that a renewal
 * lost to a brief network stall leaves time for the next; short enough that a till that froze
 * mid-edit frees the group within a minute.
 */
export const LEASE_TTL_MS = 60_000;

/** A held lease is renewed when this share of its time is left (half its TTL: one lost renewal still leaves 30 s). */
const RENEW_AT_SHARE = 0.5;

/** What each group is, for "You are editing payments". */
const EDITING_WORDS: Readonly<Record<LeaseGroup, string>> = {
  payment: "payments",
  package: "the package and price",
  correction: "corrections of this sale",
};

/** "1 min left", "45 s left", "ending now": whole seconds, rounded up, minutes from a minute on. */
export function remainingWords(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds <= 0) return "ending now";
  if (seconds < 60) return `${seconds} s left`;
  return `${Math.round(seconds / 60)} min left`;
}

/** The short form of a device id people can compare between tills: its last 6 hex digits. */
export const shortDeviceId = (deviceId: string) => deviceId.replace(/-/g, "").slice(-6);

/** One lease in force, in words, as seen from the device `ownDeviceId`. */
export function leaseView(seen: LeasesSeen, lease: Lease, ownDeviceId: string | null, nowMs: number): LeaseView {
  const remaining_ms = leaseRemainingMs(seen, lease, nowMs);
  const this_till = lease.device_id === ownDeviceId;
  const holder_words = this_till ? `You are editing ${EDITING_WORDS[lease.group]}` : `Being edited by ${lease.user_id} (${lease.role}) on another till`;
  const remaining_words = remainingWords(remaining_ms);
  return {
    entity_id: lease.entity_id,
    entity_type: lease.entity_type,
    group: lease.group,
    group_label: LEASE_GROUPS[lease.group].label,
    user_id: lease.user_id,
    role: lease.role,
    device_short: shortDeviceId(lease.device_id),
    this_till,
    remaining_ms,
    holder_words,
    remaining_words,
    words: `${holder_words}, ${remaining_words}`,
  };
}

/** The engine's side of leases, as this module needs it (SyncEngine has these). */
export interface LeaseEngine {
  lease(action: "acquire" | "release", entityId: string, group: LeaseGroup, opts?: { ttlMs?: number }): Promise<LeaseAnswer>;
  leases(): LeasesSeen | null;
  subscribeLeases(listener: (seen: LeasesSeen | null) => void): () => void;
}

interface Hold {
  entity_id: string;
  group: LeaseGroup;
  /** What the last question about it came to (`asking` while one is out). */
  state: LeaseHoldView["state"];
  words: string;
  renew: unknown;
}

/** How long a release waits for this till's own changes to the record to be judged, and how often it looks. */
export const RELEASE_WAIT_MS = 15_000;
const RELEASE_POLL_MS = 200;

const key = (entityId: string, group: string) => `${entityId}\u0000${group}`;

/**
 * The leases this till holds (or wants) while its user edits: `acquire` when an edit of a guarded
 * group starts, `release` when it is saved, cancelled or its screen closes. A granted lease is
 * renewed at half its time; one lost to a dropped connection is asked for again when the branch is
 * back. Never throws and never blocks: every outcome becomes words on the hold.
 */
export class LeaseHolds {
  readonly #holds = new Map<string, Hold>();
  readonly #unsubscribe: () => void;

  constructor(
    private readonly deps: {
      engine: LeaseEngine;
      timers: LeaseTimers;
      monotonicMs: () => number;
      ownDeviceId: () => string | null;
      onChange: () => void;
      ttlMs?: number;
      /** Whether this till has changes to the record still waiting for a verdict (release waits for them). */
      hasOpenChanges?: (entityId: string) => boolean;
    },
  ) {
    this.#unsubscribe = deps.engine.subscribeLeases((seen) => this.#leasesChanged(seen));
  }

  /** The leases in force and this till's holds, in words; `connected` false: nobody can say who else edits. */
  view(): LeasesView {
    const seen = this.deps.engine.leases();
    const own = this.deps.ownDeviceId();
    const now = this.deps.monotonicMs();
    return {
      connected: seen !== null,
      offline_words: seen === null ? LEASE_WORDS.offline : null,
      in_force: seen ? seen.leases.map((l) => leaseView(seen, l, own, now)) : [],
      mine: [...this.#holds.values()].map(({ entity_id, group, state, words }) => ({ entity_id, group, state, words })),
    };
  }

  /** Starts (or renews) holding `group` of `entityId`; resolves with the hold as it then stands. */
  async acquire(entityId: string, group: LeaseGroup): Promise<LeaseHoldView> {
    const hold = this.#holds.get(key(entityId, group)) ?? { entity_id: entityId, group, state: "asking" as const, words: "Asking the branch…", renew: null };
    this.#holds.set(key(entityId, group), hold);
    await this.#ask(hold);
    return { entity_id: hold.entity_id, group: hold.group, state: hold.state, words: hold.words };
  }

  /**
   * Stops holding it: the branch is told if it granted the lease (a lost release ends by itself at its
   * TTL). The release waits until this till's own changes to the record have their verdicts (at most
   * RELEASE_WAIT_MS, while connected): the edit it guarded is judged under the lease, and no other
   * till can take the lease between the save and its push.
   */
  async release(entityId: string, group: LeaseGroup): Promise<{ released: boolean; words: string }> {
    const hold = this.#holds.get(key(entityId, group));
    if (!hold) return { released: false, words: "Not held by this till" };
    this.#drop(hold);
    if (hold.state !== "held") return { released: false, words: "Not held by this till" };
    await this.#untilSent(entityId);
    // Taken again by a new edit while the changes were on their way: that edit holds it now.
    if (this.#holds.has(key(entityId, group))) return { released: false, words: "Held again by this till" };
    const answer = await this.deps.engine.lease("release", entityId, group);
    return { released: answer.outcome === "released", words: answer.message };
  }

  /** Resolves once `entityId` has no change of this till waiting for a verdict, the connection is gone, or RELEASE_WAIT_MS passed. */
  #untilSent(entityId: string): Promise<void> {
    const { hasOpenChanges } = this.deps;
    if (!hasOpenChanges) return Promise.resolve();
    const until = this.deps.monotonicMs() + RELEASE_WAIT_MS;
    return new Promise<void>((resolve) => {
      const check = () => {
        if (!hasOpenChanges(entityId) || this.deps.engine.leases() === null || this.deps.monotonicMs() >= until) return resolve();
        this.deps.timers.setTimeout(check, RELEASE_POLL_MS);
      };
      check();
    });
  }

  /** Every hold ends (the window closed, sync stops). */
  releaseAll(): void {
    for (const hold of [...this.#holds.values()]) void this.release(hold.entity_id, hold.group);
  }

  stop(): void {
    for (const hold of this.#holds.values()) this.deps.timers.clearTimeout(hold.renew);
    this.#holds.clear();
    this.#unsubscribe();
  }

  #drop(hold: Hold): void {
    this.deps.timers.clearTimeout(hold.renew);
    this.#holds.delete(key(hold.entity_id, hold.group));
    this.deps.onChange();
  }

  async #ask(hold: Hold): Promise<void> {
    this.deps.timers.clearTimeout(hold.renew);
    hold.renew = null;
    const wasHeld = hold.state === "held";
    if (!wasHeld) {
      hold.state = "asking";
      hold.words = "Asking the branch…";
      this.deps.onChange();
    }
    const answer = await this.deps.engine.lease("acquire", hold.entity_id, hold.group, { ttlMs: this.deps.ttlMs ?? LEASE_TTL_MS });
    // Released (or asked again) while this question was out: the later call owns the hold now.
    if (this.#holds.get(key(hold.entity_id, hold.group)) !== hold) {
      if (answer.outcome === "granted") void this.deps.engine.lease("release", hold.entity_id, hold.group);
      return;
    }
    this.#answered(hold, answer);
    this.deps.onChange();
  }

  #answered(hold: Hold, answer: LeaseAnswer): void {
    switch (answer.outcome) {
      case "granted": {
        hold.state = "held";
        hold.words = `You are editing ${EDITING_WORDS[hold.group]}`;
        const lease = answer.lease;
        const leftMs = lease ? Math.max(0, lease.expires_at_ms - answer.server_time_ms) : (this.deps.ttlMs ?? LEASE_TTL_MS);
        hold.renew = this.deps.timers.setTimeout(() => void this.#ask(hold), leftMs * RENEW_AT_SHARE);
        return;
      }
      case "refused":
        // Not on the branch yet (created here, not sent): no other till can be editing it.
        if (answer.refusal === "not_found") {
          hold.state = "local_only";
          hold.words = "Only on this till so far: nobody else can be editing it";
          return;
        }
        hold.state = answer.refusal === "held" ? "held_elsewhere" : "refused";
        hold.words = answer.message;
        return;
      case "offline":
        hold.state = "offline";
        hold.words = LEASE_WORDS.offline;
        return;
      case "timed_out":
      case "error":
      case "invalid":
        hold.state = "unanswered";
        hold.words = answer.message;
        return;
      case "released":
      case "broken":
        // Not an answer to acquire; kept readable rather than asserted.
        hold.state = "refused";
        hold.words = answer.message;
        return;
    }
  }

  /**
   * The branch's leases changed. Back online, a hold the branch never answered is asked for again;
   * one refused because another till held it is asked for again once that lease is gone; a held one
   * the branch no longer lists (expired unrenewed, or broken by a manager) is said to be over.
   */
  #leasesChanged(seen: LeasesSeen | null): void {
    for (const hold of this.#holds.values()) {
      const inForce = seen?.leases.find((l) => l.entity_id === hold.entity_id && l.group === hold.group) ?? null;
      if (seen === null) {
        if (hold.state === "held") {
          this.deps.timers.clearTimeout(hold.renew);
          hold.state = "offline";
          hold.words = LEASE_WORDS.offline;
        }
      } else if (hold.state === "offline" || hold.state === "unanswered" || (hold.state === "held_elsewhere" && inForce === null)) {
        void this.#ask(hold);
      } else if (hold.state === "held" && (inForce === null || inForce.device_id !== this.deps.ownDeviceId())) {
        this.deps.timers.clearTimeout(hold.renew);
        hold.state = "ended";
        hold.words = `Your hold on ${EDITING_WORDS[hold.group]} ended (a manager may have broken it): someone may be editing this too`;
      }
    }
  }
}
