/**
 * The Close of day screen's side of the core (issue 19, protocol v10): the branch's report of a
 * business day (`GET …/days/:day/report`), closing it and counting a till's drawer (`POST …/close`,
 * `…/drawer`), each an HTTP request with this device's token, answered as a value in words.
 *
 * The report is the branch's: only the server knows every till's sales and whether each till has
 * proved its queue is in. When the server cannot be reached (or sync is switched off on purpose),
 * the screen shows this device's own figures (`LocalStore.dayFigures`), labelled as this till's copy,
 * and nothing can be closed or counted: a close made offline would be a close of one till's view.
 */
import { canDo, type DayFigures, DayReport, type DeviceId } from "../../domain/index.js";
import { plural } from "../../domain/amounts.js";
import type { LocalStore } from "../store/local-store.js";
import { serverCall } from "../sync/server-api.js";
import type { DayActionResult, DayView, ThisTillDay } from "./api.js";

/** One small request: a dead server fails at once (refused); a black-holed one is not waited on for long. */
const DAY_REQUEST_TIMEOUT_MS = 15_000;

type Answer = { kind: "ok"; status: number; body: unknown } | { kind: "refused"; status: number; error: string; message: string; body: unknown } | { kind: "unreachable"; message: string };

/** `method /v1/branches/<branch>/days/<day>/<action>` as this device. Never throws. */
async function dayRequest(store: LocalStore, method: "GET" | "POST", day: string, action: "report" | "close" | "drawer", body?: unknown): Promise<Answer> {
  const cfg = store.config();
  if (!cfg) return { kind: "unreachable", message: "this till is not set up yet" };
  const answer = await serverCall(cfg, method, `days/${encodeURIComponent(day)}/${action}`, body, DAY_REQUEST_TIMEOUT_MS);
  if (answer.kind !== "refused") return answer;
  const { error, message } = answer.body;
  return {
    kind: "refused",
    status: answer.status,
    error: typeof error === "string" ? error : `http_${answer.status}`,
    message: typeof message === "string" ? message : `the server answered HTTP ${answer.status}`,
    body: answer.body,
  };
}

/** The server's report, checked: a shape this app cannot read is said, never shown half. */
function readReport(body: unknown): { ok: true; report: DayReport } | { ok: false; message: string } {
  const parsed = DayReport.safeParse(body);
  if (parsed.success) return { ok: true, report: parsed.data };
  const issue = parsed.error.issues[0];
  return { ok: false, message: `The server's report could not be read (${issue ? `${issue.path.join(".")}: ${issue.message}` : "unknown shape"}). Update the app.` };
}

/** The Close of day screen for `day`: the branch's report, or this till's own figures when the server is out of reach. */
export async function dayView(store: LocalStore, day: string, opts: { paused: boolean }): Promise<DayView> {
  if (opts.paused) return local(store, day, "Sync is switched off (working offline), so the branch's report was not asked for.");
  const answer = await dayRequest(store, "GET", day, "report");
  switch (answer.kind) {
    case "unreachable":
      return local(store, day, `The server cannot be reached (${answer.message}), so these are this till's own figures.`);
    case "refused":
      return { source: "refused", day, message: refusalWords(answer.status, answer.message, "read the report"), this_till: thisTill(store, day, null) };
    case "ok": {
      const read = readReport(answer.body);
      if (!read.ok) return { source: "refused", day, message: read.message, this_till: thisTill(store, day, null) };
      return branchView(store, day, read.report);
    }
  }
}

function branchView(store: LocalStore, day: string, report: DayReport): DayView {
  return { source: "branch", day, report, may_close: canDo(store.config()?.role ?? "viewer", "close_day"), this_till: thisTill(store, day, report) };
}

function local(store: LocalStore, day: string, why: string): DayView {
  const figures: DayFigures = store.dayFigures(day);
  return { source: "this_till", day, figures, why, this_till: thisTill(store, day, null) };
}

/** Closes `day` on the branch (managers and owners): the report at revision 1, or why not in words. */
export async function closeDay(store: LocalStore, day: string, note: string | undefined, opts: { paused: boolean }): Promise<DayActionResult> {
  const cfg = store.config();
  if (!cfg || !canDo(cfg.role, "close_day")) return { ok: false, error: `Only a manager or the owner can close a day; this till is signed in as ${cfg?.role ?? "nobody"}.` };
  if (opts.paused) return { ok: false, error: "Sync is switched off (working offline), so the day cannot be closed: a day is closed on the server, with every till's sales. Go online, then close it." };
  const trimmed = note?.trim();
  const answer = await dayRequest(store, "POST", day, "close", trimmed ? { note: trimmed } : {});
  switch (answer.kind) {
    case "unreachable":
      return { ok: false, error: "The server could not be reached, so the day was not closed. A day is closed on the server, with every till's sales: try again when this till is online." };
    case "refused": {
      if (answer.status === 409) {
        const report = DayReport.safeParse((answer.body as { report?: unknown } | null)?.report);
        const close = report.success ? report.data.revisions[0] : undefined;
        const latest = report.success ? report.data.revisions.at(-1) : undefined;
        const error =
          close && latest
            ? `${day} was closed already by ${close.by_user} (the report is at revision ${latest.revision}). A closed day is never closed twice: late sales re-issue its report.`
            : `${day} was closed already. A closed day is never closed twice: late sales re-issue its report.`;
        return report.success ? { ok: false, error, view: branchView(store, day, report.data) } : { ok: false, error };
      }
      if (answer.status === 422) return { ok: false, error: `${day} has not begun yet in the branch's time zone (${store.timeZone()}), so it cannot be closed. A day is closed on or after it.` };
      return { ok: false, error: refusalWords(answer.status, answer.message, "close the day") };
    }
    case "ok": {
      const read = readReport(answer.body);
      return read.ok ? { ok: true, view: branchView(store, day, read.report) } : { ok: false, error: read.message };
    }
  }
}

/** Records what a manager counted in one till's drawer for `day`: the report with its variance, or why not. */
export async function countDrawer(
  store: LocalStore,
  input: { day: string; device_id: DeviceId; currency: string; counted_minor: number; note?: string },
  opts: { paused: boolean },
): Promise<DayActionResult> {
  const cfg = store.config();
  if (!cfg || !canDo(cfg.role, "close_day")) return { ok: false, error: `Only a manager or the owner can count a drawer; this till is signed in as ${cfg?.role ?? "nobody"}.` };
  if (opts.paused) return { ok: false, error: "Sync is switched off (working offline), so the count cannot be recorded: drawer counts are kept on the server. Go online, then count." };
  const note = input.note?.trim();
  const answer = await dayRequest(store, "POST", input.day, "drawer", { device_id: input.device_id, currency: input.currency, counted_minor: input.counted_minor, ...(note ? { note } : {}) });
  switch (answer.kind) {
    case "unreachable":
      return { ok: false, error: "The server could not be reached, so the count was not recorded. Write it down and enter it when this till is online." };
    case "refused":
      if (answer.status === 404) return { ok: false, error: "The branch has never seen that till, so its drawer cannot be counted." };
      return { ok: false, error: refusalWords(answer.status, answer.message, "count the drawer") };
    case "ok": {
      const read = readReport(answer.body);
      return read.ok ? { ok: true, view: branchView(store, input.day, read.report) } : { ok: false, error: read.message };
    }
  }
}

function refusalWords(status: number, message: string, what: string): string {
  if (status === 401) return `The server did not accept this till's sign-in, so it cannot ${what}: sign in again (${message}).`;
  if (status === 403) return `The server refused: this till may not ${what} (${message}).`;
  return `The server refused to ${what}: ${message}`;
}

/**
 * This till's own account of the day: the branch's proof for it when the report lists it, and the
 * POS changes of the day it still has to have confirmed, from its own queue (`LocalStore.tillDays`,
 * what it reports to the branch), so it is true offline too.
 */
export function thisTill(store: LocalStore, day: string, report: DayReport | null): ThisTillDay {
  const cfg = store.config();
  const own = store.tillDays().find((d) => d.day === day) ?? null;
  const pending = own?.pending ?? 0;
  const waiting = pending > 0 ? `${plural(pending, "POS change")} of ${day} waiting to be confirmed by the branch` : null;
  const proof = report?.tills.find((t) => t.device_id === cfg?.device_id) ?? null;
  if (proof?.state === "confirmed" && pending === 0) return { tone: "ok", words: `This till: confirmed for ${day}`, pending };
  // The branch's why starts "not yet confirmed: …" (durable/core/days.ts): said once here.
  if (proof) return { tone: "warn", words: `This till: not yet confirmed for ${day}${waiting ? `; ${waiting}` : ""} (${proof.why.replace(/^not yet confirmed: /, "")})`, pending };
  if (waiting) return { tone: "warn", words: `This till: ${waiting}`, pending };
  const last = own?.last_local_receipt_no ? `, last receipt ${own.last_local_receipt_no}` : "";
  return { tone: "quiet", words: `This till: nothing of ${day} waiting to be sent${last}`, pending };
}
