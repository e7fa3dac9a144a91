/**
 * Several push batches in flight (machines/sync-machine.ts, MAX_BATCHES_IN_FLIGHT), end to end: the
 * real session and store against the real branch room over in-memory sockets. The server's answers
 * wait at a gate the test opens, so what is in flight at any moment is the test's choice, not a race.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createActor } from "xstate";
import { inspectStore } from "../../../desktop/store/inspect.js";
import type { LocalStore } from "../../../desktop/store/local-store.js";
import { sessionActor } from "../../../desktop/sync/session.js";
import type { OpenSocket, Socket } from "../../../desktop/sync/transport.js";
import { type ConflictsRaised, MAX_BATCHES_IN_FLIGHT, REQUEST_TIMEOUT_MS, syncMachine, syncStateName } from "../../../machines/index.js";
import type { Chunk, ClientMessage, ServerMessage } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import type { Actor } from "../../../durable/core/actor.js";
import type { DeviceId, UserId } from "../../../domain/index.js";
import { DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import { openStore } from "../../support/desktop.js";
import { makeRoom } from "../../support/memory-room.js";
import { ManualTimers, roomLink, settle } from "../../support/session-link.js";

const stores: LocalStore[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

/**
 * Sockets whose frames from the server wait while `shut`, and a timeline of what crossed in each
 * direction: `push <batch>`, `chunk <batch>`, `pull` out; `verdicts <batch>`, `changes` in.
 */
function gated(open: OpenSocket) {
  const gate = {
    shut: false,
    timeline: [] as string[],
    held: [] as Array<() => void>,
    socket: null as Socket | null,
    /** Lets every held frame through, in order, and keeps the gate open. */
    open() {
      gate.shut = false;
      for (const deliver of gate.held.splice(0)) deliver();
    },
    /** The connection drops: held frames are lost. */
    cut() {
      gate.held = [];
      gate.socket?.close(1006, "connection_lost");
    },
  };
  const opened: OpenSocket = (url, handlers) => {
    const socket = open(url, {
      ...handlers,
      message: (text) => {
        const deliver = () => {
          const frame = JSON.parse(text) as ServerMessage;
          if (frame.type === "verdicts") gate.timeline.push(`verdicts ${frame.batch_id}`);
          if (frame.type === "changes") gate.timeline.push("changes");
          handlers.message(text);
        };
        if (gate.shut) gate.held.push(deliver);
        else deliver();
      },
    });
    gate.socket = socket;
    return {
      send: (text) => {
        const frame = JSON.parse(text) as ClientMessage;
        if (frame.type === "push") gate.timeline.push(`push ${frame.batch_id}`);
        if (frame.type === "chunk") gate.timeline.push(`chunk ${frame.transfer_id}`);
        if (frame.type === "pull") gate.timeline.push("pull");
        socket.send(text);
      },
      close: (code, reason) => socket.close(code, reason),
    };
  };
  return { gate, open: opened };
}

/** A desktop on `room`: its store, the real session and the machine, on manual timers. */
async function desktop(room: ReturnType<typeof makeRoom>, device: string, maxBatchEvents: number) {
  const { store } = await openStore({ device });
  stores.push(store);
  const link = roomLink(room, device);
  const { gate, open } = gated(link.open);
  const timers = new ManualTimers();
  const conflicts: ConflictsRaised[] = [];
  const uploads = new Map<string, Chunk[]>();
  const machine = syncMachine.provide({
    actors: { session: sessionActor({ store, openSocket: open, uploads, app: "test/1", timers, maxBatchEvents }) },
    actions: { conflictsRaised: (_, params) => void conflicts.push(params) },
  });
  const actor = createActor(machine, { input: { online: true, needsBootstrap: false, random: () => 1 }, clock: timers }).start();
  await until(() => syncStateName(actor.getSnapshot()) === "online.live");
  return {
    store,
    link,
    gate,
    timers,
    conflicts,
    actor,
    get state() {
      return syncStateName(actor.getSnapshot());
    },
    inFlight: () => actor.getSnapshot().context.inFlight.map((b) => b.batchId),
    /** Local writes, then the engine's LOCAL_WRITE. */
    write(n: number, title = "Project") {
      const written = store.writeMany(Array.from({ length: n }, (_, i) => ({ kind: "project_create" as const, data: { ...ex.project, title: `${title} ${i}` } })));
      expect(written.ok).toBe(true);
      actor.send({ type: "LOCAL_WRITE" });
    },
    /** The events of each push on the timeline, by batch id, in the order they went out. */
    pushes: () => gate.timeline.filter((t) => t.startsWith("push ")).map((t) => t.slice(5)),
  };
}

/** Lets queued work run until `done` holds (WebCrypto hashing of chunks takes a few turns). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await settle();
  expect(done()).toBe(true);
}

describe("several push batches in flight", () => {
  it(`sends ${MAX_BATCHES_IN_FLIGHT} batches before any verdict, each once and in queue order, and applies verdicts per batch in socket order`, async () => {
    const room = makeRoom();
    const a = await desktop(room, DEVICES.A, 2);
    a.gate.shut = true;
    a.write(10); // five batches of two
    await until(() => a.pushes().length === MAX_BATCHES_IN_FLIGHT);
    await settle();
    expect(a.pushes()).toHaveLength(MAX_BATCHES_IN_FLIGHT); // the window is full: the fifth waits
    expect(a.state).toBe("online.awaitingVerdicts");
    expect(a.inFlight()).toEqual(a.pushes());
    expect(new Set(a.pushes()).size).toBe(MAX_BATCHES_IN_FLIGHT);

    a.gate.open();
    await until(() => a.store.summary().pending === 0 && a.state === "online.live");
    const pushes = a.pushes();
    expect(pushes).toHaveLength(5);
    // Verdicts in the order of the pushes, one complete answer each; the fifth went out after the first answer.
    expect(a.gate.timeline.filter((t) => t.startsWith("verdicts ")).map((t) => t.slice(9))).toEqual(pushes);
    expect(a.gate.timeline.indexOf(`push ${pushes[4]}`)).toBeGreaterThan(a.gate.timeline.indexOf(`verdicts ${pushes[0]}`));
    // Each event committed once, in the order it was queued.
    expect(a.store.queueCounts()).toMatchObject({ confirmed: 10, pending: 0, sent: 0 });
    expect(room.core.head()).toBe(10);
    expect(committedSeqs(a.store)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("after a lost connection, sends every batch without verdicts again, same ids and order, before new events; each commits once", async () => {
    const room = makeRoom();
    const a = await desktop(room, DEVICES.A, 2);
    // The first push reaches the server (its verdicts are lost with the connection); the others never do.
    let pushed = 0;
    a.link.hold = (frame) => frame.type === "push" && ++pushed > 1;
    a.gate.shut = true;
    a.write(6);
    await until(() => a.pushes().length === 3);
    const first = a.pushes();
    a.gate.cut();
    a.link.hold = () => false;
    a.write(2, "Later");
    a.gate.open();
    await a.timers.advance(REQUEST_TIMEOUT_MS); // backoff, then a new connection
    await until(() => a.state === "online.live" && a.store.summary().pending === 0);
    // The pull after the handshake brought the first batch's commits (confirming its events); the
    // other two went again, same ids, same order, before the new events.
    const again = a.pushes().slice(3);
    expect(again.slice(0, 2)).toEqual(first.slice(1));
    expect(again).toHaveLength(3);
    expect(a.store.queueCounts()).toMatchObject({ confirmed: 8, pending: 0, sent: 0 });
    expect(room.core.head()).toBe(8);
    expect(committedSeqs(a.store)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("sends nothing behind a chunked batch until its verdicts are in", async () => {
    const room = makeRoom();
    const a = await desktop(room, DEVICES.A, 1);
    a.gate.shut = true;
    const created = a.store.createProject(ex.project);
    expect(created.ok).toBe(true);
    const id = created.ok ? created.value.event.entity_id : "";
    const items = Array.from({ length: 20_000 }, (_, i) => ({ sha256: (i * 7919).toString(16).padStart(64, "a"), file_name: `DSC_${String(i).padStart(5, "0")}.NEF`, size_bytes: 24_000_000 + i, note: null }));
    expect(a.store.setMediaSelection(id, { items }).ok).toBe(true);
    a.write(2);
    await until(() => a.gate.timeline.some((t) => t.startsWith("chunk ")));
    await settle();
    const [small, big] = a.inFlight();
    expect(a.pushes()).toEqual([small]);
    expect(a.gate.timeline.filter((t) => !t.startsWith("chunk ")).at(-1)).toBe(`push ${small}`);
    expect(a.gate.timeline.at(-1)).toBe(`chunk ${big}`); // and nothing after its chunks
    expect(a.state).toBe("online.awaitingVerdicts");

    a.gate.open();
    await until(() => a.state === "online.live" && a.store.summary().pending === 0);
    const afterBig = a.gate.timeline.slice(a.gate.timeline.indexOf(`verdicts ${big}`));
    expect(afterBig.filter((t) => t.startsWith("push "))).toHaveLength(2);
    expect(a.store.queueCounts()).toMatchObject({ confirmed: 4, pending: 0, sent: 0 });
  }, 60_000);

  it("on a rejection sends nothing more: the batches already in flight are answered, then it pulls", async () => {
    const room = makeRoom();
    const a = await desktop(room, DEVICES.A, 1);
    const created = a.store.createProject(ex.project);
    const id = created.ok ? created.value.event.entity_id : "";
    a.actor.send({ type: "LOCAL_WRITE" });
    await until(() => a.store.summary().pending === 0);
    // B changes the project; A, not hearing of it yet, changes it twice and creates another.
    a.gate.shut = true;
    const b: Actor = { device_id: DEVICES.B as DeviceId, user_id: "u-b" as UserId, role: "owner" };
    const f = makeEventFactory(3);
    expect(room.core.push(b, [f.updateProject(DEVICES.B, id, { title: "B's title" }, { base: 1 })]).verdicts[0]?.status).toBe("confirmed");
    expect(a.store.updateProject(id, { title: "A's title" }).ok).toBe(true);
    expect(a.store.updateProject(id, { notes: "A's notes" }).ok).toBe(true);
    a.write(1, "Unrelated");
    await until(() => a.inFlight().length === 3);
    const [stale, dependent, unrelated] = a.inFlight();

    a.gate.open();
    await until(() => a.state === "online.live" && a.store.summary().pending === 0);
    // The store rejected the dependent with its dependency (Handling a rejection), so the server's
    // depends_on_rejected for it decides nothing new: one batch came back with rejections.
    expect(a.conflicts).toEqual([{ batchId: stale, rejected: 1 }]);
    expect(a.store.conflicts().map((c) => c.event_id)).toHaveLength(2);
    // The pull went out after the last batch in flight was answered, and no push between.
    const t = a.gate.timeline;
    const pull = t.indexOf("pull", t.indexOf(`verdicts ${unrelated}`));
    expect(pull).toBeGreaterThan(-1);
    expect(t.slice(t.indexOf(`verdicts ${stale}`), pull).filter((x) => x.startsWith("push "))).toEqual([]);
    expect(a.store.queueCounts()).toMatchObject({ confirmed: 2, rejected: 2 });
    const entity = a.store.get(id)?.entity;
    expect(entity?.entity_type === "project" ? entity.data?.title : null).toBe("B's title");
    expect(t).toContain(`verdicts ${dependent}`);
  });
});

/** The seqs the store's queued events were committed at, in the order they were queued. */
function committedSeqs(store: LocalStore): Array<number | null> {
  return inspectStore(store.path, (file) => file.queue().map((row) => row.seq));
}
