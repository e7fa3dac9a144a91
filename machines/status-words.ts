/**
 * Sync's state in words for people, shared by the CLI and the app's renderer so that both say the
 * same thing: every public status in a cashier's words (`statusWords`), why sync stopped for good,
 * and a till clock that is wrong. Each surface adds what to do in its own terms (a command for the
 * CLI, a step for the app). No I/O, no clock: the time a countdown is measured from is passed in.
 * Internal names (state kinds, close reasons, codes) never appear in these words; the app shows
 * them only under "Details for support".
 */
import type { PublicStatus } from "./status.js";
import { unreachable } from "../lib/result.js";
import { clockIsWrong, describeSkew } from "../domain/clock.js";
import { plural } from "../domain/amounts.js";

/** How the words should look: calm, busy, a warning, or stopped. */
export type StatusTone = "ok" | "busy" | "warn" | "bad";

export interface StatusWords {
  /** A few words for the status pill: "Live · up to date", "Server unreachable · retrying". */
  short: string;
  /** One sentence for the sync panel: "Up to date", "Server unreachable — retrying in 12 s". */
  headline: string;
  /** When sync stopped for good: the step that gets it going again, as a sentence; else null. */
  advice: string | null;
  tone: StatusTone;
}

export interface StatusWordsContext {
  /** The user switched sync off on purpose (AppStatus.paused). */
  paused?: boolean;
  /** Changes not yet sent (SyncSummary.pending). */
  pending?: number;
  /** Now, on the clock `retryAtMs` was stamped with (AppStatus.clock.now_ms); without it no countdown. */
  nowMs?: number | null;
}

/** "1 change", "1,234 changes": counts for people are grouped by thousands (domain/amounts.ts). */
const changes = (n: number) => plural(n, "change");

/**
 * Whole seconds until the retry of a `backoff` is due, counted from `nowMs` on the clock the machine
 * stamped it with (rounded up, so "0 s" only once it is due); null for any other status, or without
 * a time.
 */
export function retryInSeconds(status: PublicStatus, nowMs: number | null | undefined): number | null {
  if (status.kind !== "backoff" || status.retryAtMs === null || nowMs === null || nowMs === undefined) return null;
  return Math.max(0, Math.ceil((status.retryAtMs - nowMs) / 1000));
}

/**
 * Why the last connection failed, in words: a connect that never opened reads as unreachable. By the
 * close's reason, the protocol close's name (protocol/close-codes.ts), not its code: importing that
 * table would bring zod into the renderer's bundle.
 */
function backoffCause(lastClose: { code: number; reason: string } | null): string {
  if (lastClose === null) return "Server unreachable";
  if (lastClose.reason === "protocol_too_new") return "The server is being updated";
  if (lastClose.code === 1011 || /^http_5\d\d$/.test(lastClose.reason)) return "The server had a problem";
  if (lastClose.code === 1006 || lastClose.reason.startsWith("http_")) return "Server unreachable";
  return "Connection lost";
}

/** Why a device token was refused, for a person: a sign-in that expired, is for elsewhere, or was refused. */
function signedOutWords(reason: string): string {
  if (reason === "token_expired" || reason === "expired") return "this device's access expired";
  if (reason === "forbidden") return "this device's sign-in is not for this branch";
  return "this device's sign-in was refused";
}

/**
 * Every public status in words. The pill shows `short`, the sync panel `headline` (and `advice`
 * when sync stopped). `ctx.nowMs` turns `backoff`'s retry time into a countdown.
 */
export function statusWords(status: PublicStatus, ctx: StatusWordsContext = {}): StatusWords {
  const pending = ctx.pending ?? 0;
  if (ctx.paused) {
    return { short: "Offline", headline: "Working offline — sync is switched off; sales and changes are kept on this computer", advice: null, tone: "warn" };
  }
  switch (status.kind) {
    case "offline":
      return { short: "Offline", headline: "Working offline — no network; sales and changes are kept on this computer", advice: null, tone: "warn" };
    case "connecting":
      return { short: "Connecting…", headline: "Connecting…", advice: null, tone: "busy" };
    case "syncing":
      switch (status.phase) {
        case "bootstrap":
          return { short: "Downloading…", headline: "Downloading the branch's records…", advice: null, tone: "busy" };
        case "pull":
          return { short: "Receiving…", headline: "Receiving changes from the server…", advice: null, tone: "busy" };
        case "push": {
          const words = pending > 0 ? `Sending ${changes(pending)}…` : "Sending changes…";
          return { short: words, headline: words, advice: null, tone: "busy" };
        }
        default:
          return unreachable(status.phase, "sync phase");
      }
    case "live":
      return pending > 0
        ? { short: "Live", headline: `Connected — ${changes(pending)} waiting to be sent`, advice: null, tone: "busy" }
        : { short: "Live · up to date", headline: "Up to date", advice: null, tone: "ok" };
    case "backoff": {
      const cause = backoffCause(status.lastClose);
      const seconds = retryInSeconds(status, ctx.nowMs);
      const when = seconds === null ? "retrying soon" : seconds === 0 ? "retrying now" : `retrying in ${seconds} s`;
      // The pill (a live region) leaves the seconds out: a screen reader would read every tick.
      return { short: `${cause} · retrying`, headline: `${cause} — ${when}`, advice: null, tone: "warn" };
    }
    case "auth_failed":
      if (status.reason === "device_revoked") {
        return {
          short: "Device revoked",
          headline: "Sync stopped: this device was revoked by a manager.",
          advice: "Ask a manager for a token for a new device, then set this till up again with it.",
          tone: "bad",
        };
      }
      if (status.reason === "install_conflict") {
        return {
          short: "Signed in elsewhere",
          headline: "Sync stopped: this device's sign-in is already used on another computer.",
          advice: "Ask a manager for a token for a new device, then set this till up again with it.",
          tone: "bad",
        };
      }
      return { short: "Signed out", headline: `Signed out: ${signedOutWords(status.reason)} — ask a manager for a new sign-in`, advice: null, tone: "bad" };
    case "update_required":
      return { short: "Update required", headline: "Sync stopped: this app is too old for the server.", advice: "Update the app; nothing is lost meanwhile.", tone: "bad" };
    case "replaced":
      return {
        short: "Open elsewhere",
        headline: "Sync stopped: this till is open in another window or on another computer.",
        advice: "Press Retry now to use it here instead (the other one stops).",
        tone: "bad",
      };
    default:
      return unreachable(status, "public status");
  }
}

/** What a stopped till keeps meanwhile, as a sentence ("" when nothing waits). */
export function keptWords(pending: number): string {
  return pending > 0 ? `${changes(pending)} not yet sent stay${pending === 1 ? "s" : ""} on this computer.` : "";
}

/** The count of rejected changes waiting for a person, in words ("" when none). */
export function conflictWords(open: number): string {
  if (open === 0) return "";
  return open === 1 ? "1 change was not accepted by the server — review it in the conflict inbox" : `${changes(open)} were not accepted by the server — review them in the conflict inbox`;
}

/** Why sync stopped and will not retry on its own, or null when it has not stopped. */
export type StopCause =
  | { kind: "device_revoked" }
  | { kind: "install_conflict" }
  | { kind: "token_refused"; reason: string }
  | { kind: "update_required" }
  | { kind: "replaced" };

export function stopCause(status: PublicStatus): StopCause | null {
  switch (status.kind) {
    case "auth_failed":
      if (status.reason === "device_revoked") return { kind: "device_revoked" };
      if (status.reason === "install_conflict") return { kind: "install_conflict" };
      return { kind: "token_refused", reason: status.reason };
    case "update_required":
      return { kind: "update_required" };
    case "replaced":
      return { kind: "replaced" };
    case "offline":
    case "connecting":
    case "syncing":
    case "live":
    case "backoff":
      return null;
    default:
      return unreachable(status, "public status");
  }
}

/** What happened, as the middle of a sentence ("sync stopped: …"). */
export function describeStop(cause: StopCause): string {
  switch (cause.kind) {
    case "device_revoked":
      return "this device was revoked by a manager";
    case "install_conflict":
      return "this token's device is already used by another install (a token is for one install)";
    case "token_refused":
      return `the device token was refused (${cause.reason})`;
    case "update_required":
      return "this app is too old for the server";
    case "replaced":
      return "this device connected from somewhere else";
    default:
      return unreachable(cause, "stop cause");
  }
}

export { clockIsWrong };

/** The warning for a till whose clock is off (skew = till minus server, at the last connection), or null. */
export function clockWarning(skewMs: number | null): string | null {
  if (!clockIsWrong(skewMs)) return null;
  return `This till's clock is ${describeSkew(skewMs)} the server's: sales may be booked to the wrong day. Fix the computer's clock.`;
}
