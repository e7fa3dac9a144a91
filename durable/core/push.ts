/**
 * Push: one ordered admit → persist → publish operation per batch.
 *
 * Every event of a batch is decided in order inside ONE storage transaction, so a batch is
 * all-or-nothing with respect to crashes, and no other commit can interleave with it. Each event
 * gets its own verdict (I2); a rejection is a value and never aborts the rest of the batch.
 *
 * This file only orders the work: decide.ts decides an event (reads), commit.ts carries the decision
 * out (writes), verdicts.ts and log.ts own the tables.
 */
import type { Verdict } from "../../protocol/index.js";
import { reject, type RejectFacts } from "../../domain/index.js";
import { assert, unreachable } from "../../lib/result.js";
import { answerRejection, type CommitContext, commitEvent, recordRejection } from "./commit.js";
import { decide, type DecideContext, type PushedEvent, type Rejection } from "./decide.js";
import { headSeq, type LoggedChange } from "./log.js";
import { anyLeaseInForce, leaseOn } from "./leases.js";
import { amendClosedDays, type IssuedRevision } from "./days.js";
import { type BatchKeys, PushStorage } from "./push-storage.js";
import type { SqlStore } from "./sql.js";

export type { Actor } from "./actor.js";
export type { PushedEvent } from "./decide.js";
export { REJECTIONS_WITH_ENTITY, storedVerdict } from "./verdicts.js";

export interface PushContext extends CommitContext {
  /** The most bytes an event of this batch can serialize to (decide.ts eventBytesAtMost). */
  eventBytesAtMost: number;
}

export interface PushOutcome {
  verdicts: Verdict[];
  /** What was committed, in seq order: published to live connections after the transaction. */
  changes: LoggedChange[];
  /** Closed days whose report these commits amended (days.ts): v10 connections are told. */
  issued: IssuedRevision[];
}

/**
 * Every event gets its verdict whatever it contains (I2, I12). A batch is decided in one transaction.
 * If deciding an event throws (a bug, or an input no rule foresaw), the whole transaction rolls back
 * and the batch is decided again with that event judged `invalid_payload` up front, stored like any
 * rejection: the rest of the batch is decided as usual and the device is never stuck behind it. An
 * event whose rejection cannot even be stored gets an answer that is not stored. Each retry judges
 * one more event, so a batch is tried at most twice its length; the common path pays nothing (a
 * savepoint per event cost ~9% of the push path).
 */
export function pushBatch(ctx: PushContext, events: ReadonlyArray<PushedEvent>): PushOutcome {
  const poisoned = new Map<number, Poisoned>();
  for (;;) {
    try {
      return ctx.sql.transaction(() => decideBatch(ctx, events, poisoned));
    } catch (error) {
      if (!(error instanceof PoisonEvent)) throw error;
      const before = poisoned.get(error.index);
      assert(before?.recordable !== false, "a transient rejection cannot throw");
      poisoned.set(error.index, { facts: before?.facts ?? error.facts, recordable: before === undefined });
    }
  }
}

interface Poisoned {
  facts: RejectFacts<"invalid_payload">;
  /** false after storing its rejection threw too: answered, not stored. */
  recordable: boolean;
}

class PoisonEvent extends Error {
  constructor(
    readonly index: number,
    readonly facts: RejectFacts<"invalid_payload">,
  ) {
    super(`event ${index} could not be decided`);
  }
}

function decideBatch(pushCtx: PushContext, events: ReadonlyArray<PushedEvent>, poisoned: ReadonlyMap<number, Poisoned>): PushOutcome {
  // What every event reads is read for the batch up front, and commits' rows are written together
  // (push-storage.ts); everything else goes through `storage.sql`, which writes those rows first.
  const storage = new PushStorage(pushCtx.sql, batchKeys(events));
  const ctx: PushContext = { ...pushCtx, sql: storage.sql };
  const verdicts: Verdict[] = [];
  const changes: LoggedChange[] = [];
  // One copy of each entity version per push (I12): ten rejected edits of one 5 MB project carry
  // the project once, in the first of them; the device applies verdicts in order and keeps it.
  const sent = new Set<string>();
  // The head is read once per batch: only this transaction commits (push.ts orders the work), and
  // a retry after a poison event starts again from the head the rollback left.
  const decideCtx: DecideContext = {
    sql: ctx.sql,
    storage,
    actor: ctx.actor,
    seq: headSeq(ctx.sql) + 1,
    eventBytesAtMost: ctx.eventBytesAtMost,
    leaseOn: leasesOfBatch(ctx.sql, ctx.nowMs),
  };
  events.forEach((event, index) => {
    let decided: { verdict: Verdict; logged?: LoggedChange };
    try {
      decided = carryOut(ctx, decideCtx, storage, event, poisoned.get(index));
    } catch (error) {
      // Nothing of the event was received that explains it: the detail is empty, the words say why.
      const reason = `the server could not process this change (${String(error).slice(0, 300)})`;
      throw new PoisonEvent(index, reject("invalid_payload", { field: null, expected: null, received: null }, { reason }));
    }
    verdicts.push(onceEach(decided.verdict, sent));
    if (decided.logged) {
      changes.push(decided.logged);
      decideCtx.seq = decided.logged.change.seq + 1;
    }
  });
  storage.flush();
  // Late POS commits for a closed day re-issue its report in this transaction (never silently).
  const issued = changes.some((c) => c.change.entity_type === "pos_order") ? amendClosedDays(pushCtx.sql, pushCtx.nowMs, pushCtx.timeZone, pushCtx.actor, changes) : [];
  return { verdicts, changes, issued };
}

/**
 * The batch's lease lookup: whether any lease is in force is read once, at the first event that
 * touches a guarded group (most batches touch none and read nothing); a group is read only then.
 */
function leasesOfBatch(sql: SqlStore, nowMs: number): DecideContext["leaseOn"] {
  let any: boolean | undefined;
  return (key) => ((any ??= anyLeaseInForce(sql, nowMs)) ? leaseOn(sql, nowMs, key) : null);
}

/** The ids a batch's events name, as far as they can be read before each event is validated (only used as keys). */
function batchKeys(events: ReadonlyArray<PushedEvent>): BatchKeys {
  const eventIds = new Set<string>();
  const entityIds = new Set<string>();
  for (const event of events) {
    eventIds.add(event.id);
    if (typeof event.depends_on === "string") eventIds.add(event.depends_on);
    if (typeof event.entity_id === "string") entityIds.add(event.entity_id);
  }
  return { eventIds: [...eventIds], entityIds: [...entityIds] };
}

/** Decides one event (or takes the poison verdict it was given) and writes what the decision says. */
function carryOut(ctx: PushContext, decideCtx: DecideContext, storage: PushStorage, event: PushedEvent, poison: Poisoned | undefined): { verdict: Verdict; logged?: LoggedChange } {
  if (poison !== undefined) {
    const rejection: Rejection = { about: "unread", event, facts: poison.facts };
    return { verdict: poison.recordable ? recordRejection(ctx, rejection) : answerRejection(rejection) };
  }
  const decision = decide(decideCtx, event);
  switch (decision.kind) {
    case "replay":
      return { verdict: decision.verdict };
    case "commit":
      return commitEvent(ctx, storage, decision.event, decision.entity, decision.seq, decision.text, decision.base);
    case "reject":
      return { verdict: decision.stored ? recordRejection(ctx, decision.rejection) : answerRejection(decision.rejection) };
    default:
      return unreachable(decision, "decision");
  }
}

function onceEach(verdict: Verdict, sent: Set<string>): Verdict {
  if (verdict.status !== "rejected" || verdict.server_entity === null) return verdict;
  const key = `${verdict.server_entity.entity_id}@${verdict.server_entity.version}`;
  if (!sent.has(key)) {
    sent.add(key);
    return verdict;
  }
  return { ...verdict, server_entity: null, last_change: null }; // who made it travels with the entity, once
}
