/**
 * The dashboard's words for times, ages, devices and codes. Times are shown in the branch's time zone
 * (its `welcome.time_zone`), whatever zone the browser is in; ages are counted from the server's
 * clock (feed.ts `serverNow`), never from this machine's. Nothing here reads a clock.
 */
import { formatCount } from "../domain/amounts.js";
import { LEASE_GROUPS, type LeaseGroup } from "../domain/lease-groups.js";
import type { Lease } from "../protocol/messages.js";
import type { DevicePresence } from "../protocol/observe.js";

const formats = new Map<string, Intl.DateTimeFormat>();
function format(timeZone: string, kind: "time" | "day" | "clock" | "date"): Intl.DateTimeFormat {
  const key = `${timeZone}|${kind}`;
  let f = formats.get(key);
  if (!f) {
    const options: Intl.DateTimeFormatOptions =
      kind === "time"
        ? { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" }
        : kind === "clock"
          ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }
          : kind === "date"
            ? { day: "numeric", month: "short" }
            : { weekday: "short", day: "numeric", month: "short", year: "numeric" };
    f = new Intl.DateTimeFormat("en-GB", { ...options, timeZone });
    formats.set(key, f);
  }
  return f;
}

const ms = (at: string | number) => (typeof at === "number" ? at : Date.parse(at));

/** `3 Dec, 10:42:05` in the branch's zone. */
export const formatTime = (at: string | number, timeZone: string) => format(timeZone, "time").format(ms(at));
/** `10:42` in the branch's zone (chart axes). */
export const formatClock = (at: string | number, timeZone: string) => format(timeZone, "clock").format(ms(at));
/** A chart's time tick: `09:00`, or the day (`3 Dec`) at the zone's midnight. */
export function tickWords(at: number, timeZone: string): string {
  const clock = formatClock(at, timeZone);
  return clock === "00:00" ? format(timeZone, "date").format(at) : clock;
}
/** A business day (`2026-12-03`, already the branch's) for people: `Thu 3 Dec 2026`. */
export const formatDay = (day: string) => format("UTC", "day").format(Date.parse(`${day}T00:00:00Z`));

/** A length of time for people: `45 s`, `12 min`, `3 h 5 min`, `2 days`. */
export function formatDuration(lengthMs: number): string {
  const s = Math.max(0, Math.round(lengthMs / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`;
  return `${formatCount(Math.floor(h / 24))} days`;
}

/** `just now`, `12 min ago`; a time ahead of now (a clock ahead) is `in 2 min`. */
export function ago(at: string | number, nowMs: number): string {
  const delta = nowMs - ms(at);
  if (Math.abs(delta) < 5_000) return "just now";
  return delta > 0 ? `${formatDuration(delta)} ago` : `in ${formatDuration(-delta)}`;
}

/** A device as people tell them apart: its user and the end of its id (`kamala · 3f2a1c`). */
export const deviceLabel = (d: Pick<DevicePresence, "device_id" | "user_id"> | undefined, deviceId: string): string =>
  d ? `${d.user_id} · ${shortId(deviceId)}` : shortId(deviceId);
/** A device without its user (shown beside it already): its short id, and its app when known. */
export const deviceOnly = (d: Pick<DevicePresence, "app"> | undefined, deviceId: string): string => (d?.app ? `${shortId(deviceId)} (${d.app})` : shortId(deviceId));
/** The last 6 characters of an id: enough to tell a branch's devices apart at a glance. */
export const shortId = (id: string) => (id.length > 8 ? `…${id.slice(-6)}` : id);

/**
 * Codes (reject codes, audit kinds) whose name alone would not tell people what happened: said in
 * full. Every other code reads well as its name (`version_conflict` → `Version conflict`).
 */
const CODE_WORDS: Record<string, string> = {
  /** Reject code (v7): another device held the lease on a group the change touched. */
  entity_locked: "Locked: being edited on another device",
  /** Audit kind (v7): an owner or manager ended another device's lease. */
  lease_broken: "Lease broken by a manager",
};

/** A machine code for people: `version_conflict` → `Version conflict`; the few in CODE_WORDS in full. */
export const codeWords = (code: string) => {
  const known = CODE_WORDS[code];
  if (known) return known;
  const words = code.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
};

/** A lease group in people's words, from the one table (domain/lease-groups.ts): `payments and status`. */
export const leaseGroupWords = (group: LeaseGroup): string => LEASE_GROUPS[group].label;

/** What a lease guards: `Invoice …c0ffee — payments and status`. */
export const leaseWhat = (l: Pick<Lease, "entity_type" | "entity_id" | "group">): string => `${entityWords(l.entity_type)} ${shortId(l.entity_id)} — ${leaseGroupWords(l.group)}`;

/** How long a lease has left, from the server's now: `4 min 10 s left`, `9 s left`, `ending now`. */
export function leaseLeft(expiresAtMs: number, nowMs: number): string {
  const s = Math.ceil((expiresAtMs - nowMs) / 1000);
  if (s <= 0) return "ending now";
  if (s < 60) return `${s} s left`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min left` : `${Math.floor(s / 60)} min ${s % 60} s left`;
  return `${formatDuration(s * 1000)} left`;
}

export const ENTITY_WORDS: Record<string, string> = { project: "Project", invoice: "Invoice", pos_order: "POS order" };
export const entityWords = (type: string | null) => (type === null ? "Unknown record" : (ENTITY_WORDS[type] ?? type));

/** "1–50 of 1,234" for a page that starts at `offset` (0-based). */
export const pageRange = (offset: number, shown: number, total: number) =>
  shown === 0 ? `0 of ${formatCount(total)}` : `${formatCount(offset + 1)}–${formatCount(offset + shown)} of ${formatCount(total)}`;
