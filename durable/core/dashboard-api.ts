/**
 * `GET …/dashboard/…` (protocol/dashboard.ts): each route's query parameters read and checked (a bad
 * one is a 400 naming it), then answered by dashboard.ts. The caller has checked role `observe`.
 */
import { z } from "zod";
import { EntityType, EventId, IsoDate, IsoDateTime, RejectCode } from "../../domain/index.js";
import { DEFAULT_DASHBOARD_PAGE, MAX_DASHBOARD_PAGE, MAX_MONEY_DAYS } from "../../protocol/index.js";
import { decodeSegment } from "../http.js";
import { AuditKind } from "./audit.js";
import type { Dashboard, RejectionFilter } from "./dashboard.js";

export interface DashboardAnswer {
  status: number;
  body: unknown;
}

const ok = (body: unknown): DashboardAnswer => ({ status: 200, body });
const bad = (message: string): DashboardAnswer => ({ status: 400, body: { error: "bad_request", message } });
const notFound = (message: string): DashboardAnswer => ({ status: 404, body: { error: "not_found", message } });

/** A parameter that failed: the 400 to answer. */
class BadParam extends Error {}

const Id = z.string().min(1).max(64);
const DAY_MS = 86_400_000;

/** Reads the query parameters of one request; each reader throws BadParam naming its parameter. */
class Params {
  constructor(private readonly url: URL) {}

  #raw(name: string): string | undefined {
    return this.url.searchParams.get(name) ?? undefined;
  }

  #fail(name: string, what: string, raw: string): never {
    throw new BadParam(`${name} must be ${what}, received ${JSON.stringify(raw.slice(0, 100))}`);
  }

  int(name: string, min: number, max: number): number | undefined {
    const raw = this.#raw(name);
    if (raw === undefined) return undefined;
    const value = /^\d{1,16}$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) this.#fail(name, `an integer from ${min} to ${max}`, raw);
    return value;
  }

  limit(): number {
    return this.int("limit", 1, MAX_DASHBOARD_PAGE) ?? DEFAULT_DASHBOARD_PAGE;
  }

  one<S extends z.ZodType>(name: string, schema: S, what: string): z.infer<S> | undefined {
    const raw = this.#raw(name);
    if (raw === undefined) return undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) this.#fail(name, what, raw);
    return parsed.data;
  }

  /** An ISO instant, as ms since epoch. */
  instant(name: string): number | undefined {
    const value = this.one(name, IsoDateTime, "an ISO date-time such as 2026-11-25T04:00:00.000Z");
    return value === undefined ? undefined : Date.parse(value);
  }
}

/** Answers `GET …/dashboard/<path>`; `connected` are the devices with an open connection now. */
export function answerDashboard(dashboard: Dashboard, path: string, url: URL, connected: () => ReadonlySet<string>): DashboardAnswer {
  try {
    return route(dashboard, path, new Params(url), connected);
  } catch (error) {
    if (error instanceof BadParam) return bad(error.message);
    throw error;
  }
}

function route(dashboard: Dashboard, path: string, p: Params, connected: () => ReadonlySet<string>): DashboardAnswer {
  const segments = path.split("/");
  if (path === "devices") return ok(dashboard.devices(connected()));
  if (path === "rejections") return ok(rejections(dashboard, p));
  if (path === "rejections/timeline") return ok(timeline(dashboard, p));
  if (path === "money") return ok(money(dashboard, p));
  if (path === "audit") {
    const filter = {
      kind: p.one("kind", z.enum(AuditKind), `one of ${AuditKind.join(", ")}`),
      device: p.one("device", Id, "a device id (1 to 64 characters)"),
    };
    return ok(dashboard.audit(filter, p.int("before", 1, Number.MAX_SAFE_INTEGER) ?? null, p.limit()));
  }
  if (segments.length === 2 && segments[0] === "rejections") {
    const raw = decodeSegment(segments[1]!) ?? "";
    const eventId = EventId.safeParse(raw);
    if (!eventId.success) return bad(`event id ${JSON.stringify(raw.slice(0, 100))}: ${eventId.error.issues[0]?.message}`);
    const detail = dashboard.rejection(eventId.data);
    return detail ? ok(detail) : notFound(`the branch rejected no event ${eventId.data}`);
  }
  if (segments.length === 3 && segments[0] === "entities" && segments[2] === "history") {
    const raw = decodeSegment(segments[1]!) ?? "";
    const entityId = Id.safeParse(raw);
    if (!entityId.success) return bad(`entity id ${JSON.stringify(raw.slice(0, 100))}: ${entityId.error.issues[0]?.message}`);
    const history = dashboard.history(entityId.data, p.int("before_seq", 1, Number.MAX_SAFE_INTEGER) ?? null, p.limit());
    return history ? ok(history) : notFound(`the branch has no entity ${entityId.data} and rejected no change to one`);
  }
  return notFound(`no dashboard view ${path}`);
}

function rejections(dashboard: Dashboard, p: Params) {
  const from = p.instant("from");
  const to = p.instant("to");
  const filter: RejectionFilter = {
    device: p.one("device", Id, "a device id (1 to 64 characters)"),
    code: p.one("code", RejectCode, `a reject code (${RejectCode.options.join(", ")})`),
    entity_type: p.one("entity_type", EntityType, `one of ${EntityType.options.join(", ")}`),
    entity: p.one("entity", Id, "an entity id (1 to 64 characters)"),
    from: from === undefined ? undefined : new Date(from).toISOString(),
    to: to === undefined ? undefined : new Date(to).toISOString(),
  };
  return dashboard.rejections(filter, p.int("before", 1, Number.MAX_SAFE_INTEGER) ?? null, p.limit());
}

function timeline(dashboard: Dashboard, p: Params) {
  const toMs = p.instant("to") ?? dashboard.nowMs();
  const fromMs = p.instant("from") ?? toMs - DAY_MS;
  const bucketS = p.int("bucket_s", 1, 366 * 86_400) ?? null;
  if (fromMs >= toMs) throw new BadParam(`from must be before to, received from ${new Date(fromMs).toISOString()} and to ${new Date(toMs).toISOString()}`);
  return dashboard.timeline(fromMs, toMs, bucketS);
}

function money(dashboard: Dashboard, p: Params) {
  const day = (name: string) => p.one(name, IsoDate, "a calendar date YYYY-MM-DD");
  const to = day("to") ?? dashboard.today();
  const from = day("from") ?? addDays(to, -13);
  const days = (Date.parse(to) - Date.parse(from)) / DAY_MS + 1;
  if (days < 1) throw new BadParam(`from must not be after to, received from ${from} and to ${to}`);
  if (days > MAX_MONEY_DAYS) throw new BadParam(`from to to spans ${days} days; at most ${MAX_MONEY_DAYS}`);
  return dashboard.money(from, to);
}

const addDays = (day: string, n: number) => new Date(Date.parse(day) + n * DAY_MS).toISOString().slice(0, 10);
