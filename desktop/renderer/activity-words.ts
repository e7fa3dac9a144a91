/**
 * The Sync activity view's words (sync-activity.tsx): what a queued change is ("Sale D00A1-000042",
 * "Update of project Wedding Silva"), its state ("Waiting to send", "Rejected: …") and when things
 * happened, in the branch's wall-clock time. Pure functions of what the core hands over: no clock
 * (times are the store's ISO instants, shown in the branch's zone from AppStatus.clock), no codes.
 */
import type { QueuedChangeView } from "../app/api.js";
import { zonedIso } from "../../domain/clock.js";

type Type = QueuedChangeView["entity_type"];
type Status = QueuedChangeView["status"];

const NOUN: Record<Type, string> = { project: "project", invoice: "invoice", pos_order: "sale" };

/** The filter choices, in the order the screen lists them, with their words. */
export const STATE_CHOICES: ReadonlyArray<readonly [Status, string]> = [
  ["pending", "Waiting to send"],
  ["sent", "Sent, waiting for the server"],
  ["confirmed", "Confirmed"],
  ["rejected", "Rejected"],
];
export const KIND_CHOICES: ReadonlyArray<readonly [Type, string]> = [
  ["pos_order", "Sales"],
  ["project", "Projects"],
  ["invoice", "Invoices"],
];

/** "Sale D00A1-000042", "New project Wedding Silva", "Update of project Wedding Silva", "Void of a sale". */
export function changeWords(c: Pick<QueuedChangeView, "entity_type" | "operation" | "name">): string {
  const noun = NOUN[c.entity_type];
  const named = c.name === null ? `a ${noun}` : `${noun} ${c.name}`;
  switch (c.operation) {
    case "create":
      if (c.entity_type === "pos_order") return c.name === null ? "Sale" : `Sale ${c.name}`;
      return c.name === null ? `New ${noun}` : `New ${noun} ${c.name}`;
    case "update":
      return `Update of ${named}`;
    case "void":
      return `Void of ${named}`;
    case "delete":
      return `Deletion of ${named}`;
  }
}

/** "Waiting to send", "Sent, waiting for the server", "Confirmed as receipt #7", "Confirmed as #123", "Rejected: Project was deleted remotely". */
export function stateWords(c: Pick<QueuedChangeView, "status" | "verdict" | "entity_type">): string {
  switch (c.status) {
    case "pending":
      return "Waiting to send";
    case "sent":
      return "Sent, waiting for the server";
    case "confirmed":
      if (c.verdict?.kind !== "confirmed") return "Confirmed";
      return c.entity_type === "pos_order" && c.verdict.official_receipt_no !== null ? `Confirmed as receipt #${c.verdict.official_receipt_no}` : `Confirmed as #${c.verdict.seq}`;
    case "rejected":
      return c.verdict?.kind === "rejected" && c.verdict.message ? `Rejected: ${c.verdict.message}` : "Rejected";
  }
}

/**
 * An instant in the branch's wall-clock time: the time alone when it is on `today` (the branch's
 * business day, from the core), else the date and the time. An instant that cannot be read is shown
 * as it is rather than hidden.
 */
export function whenWords(iso: string, timeZone: string, today: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const local = zonedIso(ms, timeZone);
  const day = local.slice(0, 10);
  const time = local.slice(11, 16);
  return day === today ? time : `${day} ${time}`;
}

/** "Written 09:30 · sent 09:31 · decided 09:31": each step the change has reached. */
export function timelineWords(c: Pick<QueuedChangeView, "created_at" | "sent_at" | "decided_at">, timeZone: string, today: string): string {
  return [
    `Written ${whenWords(c.created_at, timeZone, today)}`,
    ...(c.sent_at ? [`sent ${whenWords(c.sent_at, timeZone, today)}`] : []),
    ...(c.decided_at ? [`decided ${whenWords(c.decided_at, timeZone, today)}`] : []),
  ].join(" · ");
}
