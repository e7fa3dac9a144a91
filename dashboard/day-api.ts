/**
 * The branch's end-of-day routes over HTTP (protocol v10, docs/protocol/http.md "End of day"), with
 * the sign-in's token: `GET …/days/:day/report` (owner, manager, viewer), `POST …/days/:day/close`
 * and `POST …/days/:day/drawer` (owner, manager; the server decides). Every answer with a report is
 * validated with the domain's own `DayReport` schema.
 *
 * A close answers 201 with the report, or is refused: 409 `day_closed` (closed already; its body
 * carries the report as it stands, so the view shows it at once) or 422 `day_not_started`. Both are
 * outcomes the view says in words, not failures; a failure is an answer that is neither.
 */
import { z } from "zod";
import { DayReport, type DrawerCountRequest } from "../domain/day-report.js";
import { callJson } from "./http.js";
import type { ApiResult } from "./link.js";

/** What a close came to: closed (revision 1), or refused with the server's words (and, for 409, the report as it stands). */
export type CloseOutcome =
  | { outcome: "closed"; report: DayReport }
  | { outcome: "refused"; error: "day_closed" | "day_not_started"; message: string; report: DayReport | null };

const Refusal = z.object({ error: z.enum(["day_closed", "day_not_started"]), message: z.string(), report: DayReport.optional() });

export interface DayApi {
  report(day: string): Promise<ApiResult<DayReport>>;
  close(day: string, note: string | null): Promise<ApiResult<CloseOutcome>>;
  countDrawer(day: string, count: DrawerCountRequest): Promise<ApiResult<DayReport>>;
}

export function dayApi(o: { server: string; branch: string; token: string; fetch: typeof fetch }): DayApi {
  const url = (day: string, action: "report" | "close" | "drawer") => new URL(`/v1/branches/${encodeURIComponent(o.branch)}/days/${encodeURIComponent(day)}/${action}`, o.server).toString();
  const auth = { Authorization: `Bearer ${o.token}` };
  const post = (body: unknown): RequestInit => ({ method: "POST", headers: { ...auth, "Content-Type": "application/json" }, body: JSON.stringify(body) });
  return {
    report: (day) => callJson(o.fetch, url(day, "report"), { headers: auth }, (status, json) => (status === 200 ? DayReport.safeParse(json) : null)),
    close: (day, note) =>
      callJson<CloseOutcome>(o.fetch, url(day, "close"), post(note ? { note } : {}), (status, json) => {
        if (status === 200 || status === 201) {
          const r = DayReport.safeParse(json);
          // A 201 whose body does not decode is said as such (its schema error), like any other answer.
          return r.success ? { success: true, data: { outcome: "closed", report: r.data } } : (r as unknown as z.ZodSafeParseResult<CloseOutcome>);
        }
        if (status === 409 || status === 422) {
          const r = Refusal.safeParse(json);
          return r.success ? { success: true, data: { outcome: "refused", error: r.data.error, message: r.data.message, report: r.data.report ?? null } } : null;
        }
        return null;
      }),
    countDrawer: (day, count) => callJson(o.fetch, url(day, "drawer"), post(count), (status, json) => (status === 200 ? DayReport.safeParse(json) : null)),
  };
}
