/**
 * An in-memory network between the devices' sessions and the branch room, with WebSocket semantics
 * and a hostile environment.
 *
 * What a WebSocket guarantees, this network keeps: within one connection, frames arrive in the order
 * they were sent, each at most once, and never after the connection was seen to close. What it does
 * not guarantee, this network breaks, on purpose and from the seed:
 *  - latency per frame, with jitter and occasional multi-second stalls;
 *  - **cuts**: a connection dies at an instant; frames still on the wire after it are lost (so a
 *    push may be committed while its verdicts are lost, or never arrive); each end learns of the
 *    death on its own, later (the server when its socket errors or times out, the client when the OS
 *    tells it), so for a while one end may talk into the void (half-open connections);
 *  - **reorder across connections**: a device's old connection may still deliver frames to the
 *    server after its newer connection did (a slow old path), which is the only reordering a
 *    WebSocket client can see;
 *  - **duplicates**: never made by the network itself (TCP does not duplicate), but by the protocol
 *    on top: a batch without verdicts is sent again after a reconnect, a crash or a stale old path;
 *  - **partitions**: a device cannot reach the branch (connects hang or fail) with or without the OS
 *    noticing (CONNECTIVITY.* is the OS's view, sent separately by the run);
 *  - **server restarts**: every connection drops at once (a deploy or an evicted Durable Object).
 * The Worker's token check in front of the room is modelled by decoding the token the session puts
 * in the URL (no signature: the Worker is not under test here).
 */
import type { BranchRoom, Peer, Session } from "../../durable/core/room.js";
import { type OpenSocket, refusedUpgradeClose, type SocketHandlers, type Socket, WS_CLOSE } from "../../desktop/sync/transport.js";
import { decodeTokenUnverified } from "../../protocol/token.js";
import type { Prng } from "../support/prng.js";
import type { Scheduler, Task } from "./scheduler.js";

/**
 * RFC 6455 §7.4.1 "going away": what a restarting server closes its connections with. WS_CLOSE
 * (desktop/sync/transport.ts) names only the codes the desktop sends or reports, so this one is
 * named here; the session treats it as any non-protocol close (backoff).
 */
const GOING_AWAY = 1001;

export interface LinkProfile {
  /** Fixed part of the one-way latency of each frame. */
  baseMs: number;
  /** Mean of the exponential jitter added to it. */
  jitterMs: number;
  /** Probability that a frame is stalled (a retransmission storm, a congested path). */
  stallChance: number;
  /** Mean extra delay of a stalled frame. */
  stallMs: number;
}

export const GOOD_LINK: LinkProfile = { baseMs: 2, jitterMs: 5, stallChance: 0, stallMs: 0 };

export interface NetworkStats {
  connects: number;
  frames: number;
  lost: number;
  cuts: number;
  /** Frames the room received from a connection older than the device's newest one (reordered across connections). */
  stale: number;
  /** `live`/`changes` frames delivered with at least one change as a delta (protocol v9). */
  deltaFrames: number;
  /** Of them, frames whose deltas' hashes the network spoiled (`spoilChance`): each device must pull those changes again whole. */
  spoiled: number;
}

type Trace = (line: string) => void;

class SimPeer implements Peer {
  #session: Session | null = null;
  closed = false;
  constructor(
    readonly id: string,
    private readonly link: Link,
  ) {}
  session() {
    return this.closed ? null : this.#session;
  }
  setSession(session: Session) {
    this.#session = session;
  }
  send(text: string) {
    this.link.net.downstream(this.link, text);
  }
  close(code: number, reason: string) {
    this.link.net.serverClosed(this.link, code, reason);
  }
}

/** One WebSocket connection, both ends. */
export class Link {
  peer: SimPeer | null = null;
  /** Frames to be delivered after this instant are lost (Infinity: not cut). */
  cutAtMs = Infinity;
  /** The client's end is closed (or its process died): nothing more reaches the client. */
  clientGone = false;
  /** The server's end is closed or the server noticed the death: nothing more reaches the room. */
  serverGone = false;
  lastUpAt = 0;
  lastDownAt = 0;
  /** Upstream frames scheduled and not yet delivered or lost. */
  inFlightUp = 0;
  /** Their delivery tasks, oldest first (a path switch delays them all alike, keeping their order). */
  readonly upTasks: Array<{ task: Task; deliver: () => void }> = [];

  constructor(
    readonly net: Network,
    readonly id: number,
    readonly device: number,
    readonly handlers: SocketHandlers,
    readonly token: string,
    readonly profile: LinkProfile,
  ) {}
}

export class Network {
  room: BranchRoom | null = null;
  readonly #links = new Set<Link>();
  readonly #openPeers = new Set<SimPeer>();
  readonly #reachable = new Map<number, boolean>();
  #nextLink = 1;
  /** The profile new connections get; heal() makes it GOOD_LINK. */
  profile: LinkProfile = GOOD_LINK;
  /** After heal(): nothing is cut, lost or stalled any more. */
  healed = false;
  /** Probability, per frame sent, that the device switches network paths right after it. */
  switchChance = 0;
  /**
   * Probability (and its own PRNG stream) that a frame carrying deltas arrives with every delta's hash spoiled: a device must
   * notice and pull those changes again whole (desktop/sync/deltas.ts), and still converge (I5).
   */
  spoil: { chance: number; prng: Prng } | null = null;
  readonly stats: NetworkStats = { connects: 0, frames: 0, lost: 0, cuts: 0, stale: 0, deltaFrames: 0, spoiled: 0 };
  /** The newest connection of each device that reached the server. */
  readonly #newest = new Map<number, number>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly prng: Prng,
    private readonly trace: Trace | null,
  ) {}

  /** The room's view of open connections (RoomHost.peers). */
  openPeers(): Iterable<SimPeer> {
    return this.#openPeers;
  }

  links(device?: number): Link[] {
    return [...this.#links].filter((l) => device === undefined || l.device === device);
  }

  /** Upstream frames still on their way to the room (0 = nothing more can reach the server). */
  inFlightUp(): number {
    let n = 0;
    for (const link of this.#links) n += link.inFlightUp;
    return n;
  }

  setReachable(device: number, reachable: boolean): void {
    this.#reachable.set(device, reachable);
    if (!reachable) for (const link of this.links(device)) this.cut(link, "partition");
  }

  isReachable(device: number): boolean {
    return this.#reachable.get(device) ?? true;
  }

  /** The socket factory of one process incarnation of a device. */
  socketFactory(device: number, incarnation: number): OpenSocket {
    return (url, handlers) => this.#open(device, incarnation, url, handlers);
  }

  #latency(link: Link): number {
    const p = link.profile;
    let ms = p.baseMs + this.prng.exp(Math.max(1, p.jitterMs));
    if (!this.healed && p.stallChance > 0 && this.prng.chance(p.stallChance)) ms += this.prng.exp(p.stallMs);
    return ms;
  }

  #open(device: number, incarnation: number, url: string, handlers: SocketHandlers): Socket {
    const token = new URL(url).searchParams.get("token") ?? "";
    const link = new Link(this, this.#nextLink++, device, handlers, token, this.profile);
    this.#links.add(link);
    this.stats.connects++;
    const tag = `d${device}#${incarnation} link ${link.id}`;
    if (!this.isReachable(device)) {
      // No route: the connect either hangs (the machine's connect timeout ends it) or fails fast.
      link.cutAtMs = this.scheduler.now;
      link.serverGone = true;
      if (this.prng.chance(0.5)) {
        this.scheduler.after(this.prng.int(50, 3_000), `${tag} refused`, () => this.#clientClose(link, WS_CLOSE.abnormal, "connection_lost"));
      }
      this.trace?.(`${tag} connect: unreachable`);
    } else {
      const upgradeAt = this.scheduler.now + this.#latency(link);
      this.scheduler.at(upgradeAt, `${tag} upgrade`, () => {
        if (link.clientGone || upgradeAt > link.cutAtMs) return;
        const claims = decodeTokenUnverified(link.token);
        if (!claims.ok) {
          // The Worker refuses the upgrade: HTTP 401, which the transport reports as the protocol's
          // `unauthorized` close (CLOSE_CODES.unauthorized), through the same table.
          link.serverGone = true;
          const refused = refusedUpgradeClose(401);
          this.scheduler.after(this.#latency(link), `${tag} 401`, () => this.#clientClose(link, refused.code, refused.reason));
          return;
        }
        const peer = new SimPeer(`peer-${link.id}`, link);
        link.peer = peer;
        this.#newest.set(device, Math.max(this.#newest.get(device) ?? 0, link.id));
        this.#openPeers.add(peer);
        this.room!.connect(peer, claims.value);
        const openAt = this.scheduler.now + this.#latency(link);
        link.lastDownAt = openAt;
        this.scheduler.at(openAt, `${tag} open`, () => {
          if (link.clientGone || openAt > link.cutAtMs) return;
          link.handlers.open();
        });
      });
    }
    return {
      send: (text) => this.#upstream(link, text),
      close: (code = WS_CLOSE.normal, reason = "client_closed") => {
        // A closed end (or a dead process) sends nothing, not even a close frame.
        if (link.clientGone) return;
        // As the real transport: the close is reported to the session at once, exactly once.
        this.#clientClose(link, code, reason);
        // The close frame follows the data already sent; the server then drops the connection.
        if (link.peer && !link.serverGone) {
          const at = Math.max(this.scheduler.now + this.#latency(link), link.lastUpAt);
          if (at <= link.cutAtMs) this.scheduler.at(at, `link ${link.id} client close reaches server`, () => this.#serverDrop(link));
        }
      },
    };
  }

  #upstream(link: Link, text: string): void {
    // partysocket with maxEnqueuedMessages 0 drops what is sent while not open; a gone client sends nothing.
    if (link.clientGone || !link.peer) return;
    this.stats.frames++;
    const at = Math.max(this.scheduler.now + this.#latency(link), link.lastUpAt);
    link.lastUpAt = at;
    link.inFlightUp++;
    const deliver = () => {
      link.inFlightUp--;
      link.upTasks.shift();
      if (this.scheduler.now > link.cutAtMs || link.serverGone || !link.peer) {
        this.stats.lost++;
        this.#forgetIfDone(link);
        return;
      }
      if ((this.#newest.get(link.device) ?? 0) > link.id) this.stats.stale++;
      return this.room!.message(link.peer, text);
    };
    link.upTasks.push({ task: this.scheduler.at(at, `link ${link.id} up`, deliver), deliver });
    // Now and then the path goes bad right behind this frame: the device switches networks.
    if (!this.healed && this.switchChance > 0 && this.prng.chance(this.switchChance)) {
      this.scheduler.after(0, `link ${link.id} path switch`, () => this.switchPath(link));
    }
  }

  downstream(link: Link, text: string): void {
    if (link.serverGone) return;
    this.stats.frames++;
    const at = Math.max(this.scheduler.now + this.#latency(link), link.lastDownAt);
    link.lastDownAt = at;
    // Drawn when sent, whether it arrives or not, so the draws do not depend on cuts.
    const deltas = text.includes('"delta":{');
    const spoil = deltas && this.spoil !== null && this.spoil.prng.chance(this.spoil.chance);
    this.scheduler.at(at, `link ${link.id} down`, () => {
      if (at > link.cutAtMs || link.clientGone) {
        this.stats.lost++;
        return;
      }
      if (deltas) this.stats.deltaFrames++;
      if (spoil) this.stats.spoiled++;
      link.handlers.message(spoil ? text.replace(/"sha256":"[0-9a-f]{64}"\}/g, `"sha256":"${"0".repeat(64)}"}`) : text);
    });
  }

  /** The room closed the connection (a fatal error, replaced, superseded): the client hears after the frames before it. */
  serverClosed(link: Link, code: number, reason: string): void {
    if (link.serverGone) return;
    this.#serverDrop(link);
    const at = Math.max(this.scheduler.now + this.#latency(link), link.lastDownAt);
    link.lastDownAt = at;
    if (at <= link.cutAtMs) this.scheduler.at(at, `link ${link.id} server close reaches client`, () => this.#clientClose(link, code, reason));
  }

  #serverDrop(link: Link): void {
    link.serverGone = true;
    if (link.peer) {
      link.peer.closed = true;
      this.#openPeers.delete(link.peer);
    }
    this.#forgetIfDone(link);
  }

  #clientClose(link: Link, code: number, reason: string): void {
    if (link.clientGone) return;
    link.clientGone = true;
    this.#forgetIfDone(link);
    link.handlers.closed(code, reason);
  }

  #forgetIfDone(link: Link): void {
    if (link.clientGone && link.serverGone && link.inFlightUp === 0) this.#links.delete(link);
  }

  /**
   * The connection dies now (or within a frame's time): frames on the wire after that are lost, and
   * each end learns of it on its own, later.
   */
  cut(link: Link, why: string): void {
    if (link.cutAtMs !== Infinity) return;
    this.stats.cuts++;
    const now = this.scheduler.now;
    link.cutAtMs = this.healed ? now : now + this.prng.int(0, Math.max(1, link.profile.baseMs + link.profile.jitterMs));
    this.trace?.(`link ${link.id} (d${link.device}) cut: ${why}`);
    const serverNotices = this.healed ? 0 : this.prng.weighted<number>([[this.prng.int(0, 2_000), 3], [this.prng.int(2_000, 60_000), 1]]);
    const clientNotices = this.healed ? 0 : this.prng.weighted<number>([[this.prng.int(0, 2_000), 3], [this.prng.int(2_000, 45_000), 1]]);
    this.scheduler.at(link.cutAtMs + serverNotices, `link ${link.id} server notices cut`, () => {
      if (!link.serverGone) this.#serverDrop(link);
    });
    this.scheduler.at(link.cutAtMs + clientNotices, `link ${link.id} client notices cut`, () => this.#clientClose(link, WS_CLOSE.abnormal, "connection_lost"));
  }

  /**
   * The device moves to another network path (Wi-Fi to LTE): the app sees its connection drop at
   * once and reconnects on the new path, while the old path still delivers what was already sent
   * on it, maybe after the new connection's frames (the reorder across connections a WebSocket
   * client can see). The server notices the old connection is gone only later.
   */
  switchPath(link: Link): void {
    if (link.clientGone) return;
    this.trace?.(`link ${link.id} (d${link.device}) path switch, ${link.inFlightUp} frame(s) still on the old path`);
    this.#clientClose(link, WS_CLOSE.abnormal, "connection_lost");
    if (link.peer && !link.serverGone) {
      // The old path is slow (that is why the device left it): what is still on it arrives late, in order.
      const delay = this.prng.int(200, 10_000);
      for (const up of link.upTasks.splice(0)) {
        this.scheduler.cancel(up.task);
        link.upTasks.push({ task: this.scheduler.at(up.task.at + delay, `link ${link.id} up (old path)`, up.deliver), deliver: up.deliver });
      }
      link.lastUpAt += delay;
      const at = Math.max(link.lastUpAt, this.scheduler.now) + this.prng.int(1_000, 30_000);
      this.scheduler.at(at, `link ${link.id} server notices the old path is gone`, () => {
        if (!link.serverGone) this.#serverDrop(link);
      });
    }
  }

  /**
   * A device's process died. Its end of every connection is gone (no callbacks into a dead process).
   * Usually its OS closes the sockets (the server hears after the frames already sent); after a
   * power cut or a frozen machine, the server notices only when the connection times out.
   */
  processDied(device: number): void {
    for (const link of this.links(device)) {
      link.clientGone = true;
      if (link.serverGone) {
        this.#forgetIfDone(link);
        continue;
      }
      if (this.prng.chance(0.7)) {
        const at = Math.max(this.scheduler.now + this.#latency(link), link.lastUpAt);
        if (at <= link.cutAtMs) this.scheduler.at(at, `link ${link.id} OS close reaches server`, () => this.#serverDrop(link));
        else this.cut(link, "process died");
      } else {
        this.cut(link, "process died (no FIN)");
      }
    }
  }

  /** Every connection drops at once (the branch's Durable Object restarted). */
  dropAll(why: string): void {
    for (const link of [...this.#links]) {
      if (link.peer && !link.serverGone) this.serverClosed(link, GOING_AWAY, "going_away");
      else this.cut(link, why);
    }
  }

  /**
   * The network becomes perfect from now on: every device reachable, no loss, no stalls, and every
   * connection that is already dead is known dead at both ends at once.
   */
  heal(): void {
    this.healed = true;
    this.profile = GOOD_LINK;
    for (const device of this.#reachable.keys()) this.#reachable.set(device, true);
    for (const link of [...this.#links]) {
      if (link.cutAtMs !== Infinity) {
        if (!link.serverGone) this.#serverDrop(link);
        this.#clientClose(link, WS_CLOSE.abnormal, "connection_lost");
      }
    }
  }
}
