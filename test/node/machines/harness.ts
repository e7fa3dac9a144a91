/**
 * Test harness for the sync machine: a fake session (records the commands it receives, reports
 * whatever the test tells it to, can crash) swapped in with `machine.provide`, and a
 * SimulatedClock so timers move only when a test moves them. No sockets, no sleeps.
 */
import { createActor, fromCallback, type InspectionEvent, SimulatedClock } from "xstate";
import {
  type ConflictsRaised,
  type ExternalEvent,
  type SessionCommand,
  type SessionEvent,
  syncMachine,
  syncStateName,
} from "../../../machines/index.js";

export interface FakeSession {
  /** Commands received, in order. */
  readonly commands: SessionCommand[];
  /** True once the machine stopped this session (its cleanup function ran). */
  stopped: boolean;
  /**
   * True once it threw. XState does not run the cleanup of a callback actor that threw (the actor
   * is already dead), so a crashed session counts as not running although `stopped` stays false.
   */
  crashed: boolean;
  /** Report an event to the machine, as the real session does with sendBack. */
  report(event: SessionEvent): void;
  /** Make the session throw, as a buggy session would. */
  crash(): void;
}

const CRASH = { type: "FAKE.CRASH" } as const;

export function fakeSessionLogic(sessions: FakeSession[]) {
  return fromCallback<SessionCommand>(({ sendBack, receive, self }) => {
    const session: FakeSession = {
      commands: [],
      stopped: false,
      crashed: false,
      report: (event) => sendBack(event),
      // A listener that throws turns the callback actor into an errored actor, which XState
      // reports to the parent as `xstate.error.actor.session`: a real crash, not a simulated event.
      crash: () => self.send(CRASH as unknown as SessionCommand),
    };
    receive((command) => {
      if ((command as { type: string }).type === CRASH.type) {
        session.crashed = true;
        throw new Error("fake session crashed");
      }
      session.commands.push(command);
    });
    sessions.push(session);
    return () => {
      session.stopped = true;
    };
  });
}

export interface StartOptions {
  online?: boolean;
  needsBootstrap?: boolean;
  random?: () => number;
  maxBatchesInFlight?: number;
  inspect?: (event: InspectionEvent) => void;
}

export function startSync(options: StartOptions = {}) {
  const sessions: FakeSession[] = [];
  const conflicts: ConflictsRaised[] = [];
  const clock = new SimulatedClock();
  const machine = syncMachine.provide({
    actors: { session: fakeSessionLogic(sessions) },
    actions: {
      conflictsRaised: (_, params) => {
        conflicts.push(params);
      },
    },
  });
  const actor = createActor(machine, {
    input: { online: options.online ?? true, needsBootstrap: options.needsBootstrap ?? false, random: options.random ?? (() => 1), ...(options.maxBatchesInFlight ? { maxBatchesInFlight: options.maxBatchesInFlight } : {}) },
    clock,
    ...(options.inspect ? { inspect: options.inspect } : {}),
  }).start();

  const session = (): FakeSession => {
    const latest = sessions.at(-1);
    if (!latest || latest.stopped || latest.crashed) throw new Error(`no running session (state ${syncStateName(actor.getSnapshot())})`);
    return latest;
  };

  return {
    actor,
    clock,
    sessions,
    conflicts,
    machine,
    get state() {
      return syncStateName(actor.getSnapshot());
    },
    get context() {
      return actor.getSnapshot().context;
    },
    send: (event: ExternalEvent) => actor.send(event),
    session,
    report: (event: SessionEvent) => session().report(event),
    /** The `inFlight` of every PUSH_NEXT the current session received, in order. */
    pushNexts: () => session().commands.flatMap((c) => (c.type === "PUSH_NEXT" ? [[...c.inFlight]] : [])),
    /** Command types the current session received. */
    commands: () => session().commands.map((c) => c.type),
    /** Sessions that are running (never more than one). */
    running: () => sessions.filter((s) => !s.stopped && !s.crashed),
  };
}

export type Sync = ReturnType<typeof startSync>;

/** Open, handshake, pull one empty page and find the queue empty: the shortest way to `live`. */
export function goLive(sync: Sync): void {
  sync.report({ type: "SESSION.OPEN" });
  sync.report({ type: "SESSION.WELCOME", head: 0 });
  sync.report({ type: "SESSION.PAGE_APPLIED", cursor: 0, more: false });
  sync.report({ type: "SESSION.QUEUE_EMPTY" });
}
