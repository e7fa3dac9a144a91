/**
 * `studiovault day …`: the end of a business day (issue 19, protocol v10) over the branch's HTTP API,
 * as this device: read a day's Z-report with every till's proof, close the day (owner, manager), and
 * enter a till's drawer count. Days are business days in the branch's time zone; `today` is the
 * branch's day on the store's clock (I13). Every argument is checked before anything is sent.
 *
 * Offline, `day report --local` prints this device's own figures of the day (the POS facts it has
 * synced, by the same function as the server): a crew on location can see its day, clearly labelled
 * as not the branch's report, since only the branch can prove the other tills' sales are in.
 */
import { type DayFigures, DayReport, type DayRevision, type DrawerCount, formatCount, formatMinor, type MethodFigures, plural, PosPaymentMethod, type TillProof, zonedIso } from "../../../domain/index.js";
import { DeviceId, Currency } from "../../../domain/index.js";
import { isoDate, minorUnits, parse, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf, type Ctx } from "../context.js";
import { print, refused } from "../output.js";
import { serverCall } from "../../sync/server-api.js";

const MAX_NOTE_CHARS = 500;

const dayFlags = {
  note: { type: "string", value: "TEXT", help: `close, drawer: a note kept with it (at most ${MAX_NOTE_CHARS} characters)` },
  till: { type: "string", value: "DEVICE_ID", help: "drawer: the till whose drawer was counted (its device id, from `day report`)" },
  counted: { type: "string", value: "AMOUNT", help: "drawer: the cash counted in it, e.g. 12500.00" },
  currency: { type: "string", value: "CODE", help: "drawer: the currency counted (default LKR)" },
  local: { type: "boolean", help: "report: this device's own figures of the day, without the server (offline)" },
} as const;

export const day = defineCommand({
  name: "day",
  flags: dayFlags,
  usage: [
    { words: "day report [YYYY-MM-DD|today]", optional: ["local"], help: "a business day's Z-report: figures per till and payment method, every till's proof that its sales are in, revisions, drawer counts" },
    { words: "day close [YYYY-MM-DD|today]", optional: ["note"], help: "close a business day and print its Z-report (owner, manager; audited); late sales amend it" },
    { words: "day drawer YYYY-MM-DD|today", required: ["till", "counted"], optional: ["currency", "note"], help: "enter the cash counted in a till's drawer; the report shows the variance (owner, manager; audited)" },
  ],
  async run(argv, ctx) {
    const [sub, ...rest] = argv;
    if (sub === "report") return report(rest, ctx);
    if (sub === "close") return close(rest, ctx);
    if (sub === "drawer") return drawer(rest, ctx);
    throw new UsageError(`day: expected report, close or drawer; received ${JSON.stringify(sub ?? "")}`);
  },
});

/** The day named on the command line (default: the branch's today on the store's clock). */
function dayOf(ctx: Ctx, text: string | undefined, required = false): string {
  if (text === undefined || text === "") {
    if (required) throw new UsageError("day drawer: the day is missing; expected YYYY-MM-DD or today");
    return ctx.store.today();
  }
  return text === "today" ? ctx.store.today() : isoDate(text, "DAY")!;
}

function note(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (trimmed === "") throw new UsageError("--note: empty; write the note, or leave the flag out");
  if (trimmed.length > MAX_NOTE_CHARS || /[\n\r]/.test(trimmed)) throw new UsageError(`--note: expected one line of at most ${formatCount(MAX_NOTE_CHARS)} characters`);
  return trimmed;
}

function reportOf(body: unknown): DayReport {
  const parsed = DayReport.safeParse(body);
  if (!parsed.success) throw new Error(`the server's day report is not what this app expects: ${parsed.error.issues[0]?.path.join(".")}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  return parsed.data;
}

async function report(argv: string[], ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(argv, dayFlags, 1);
  for (const flag of ["note", "till", "counted", "currency"] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} is not for \`day report\``);
  const day = dayOf(ctx, positionals[0]);
  if (values.local) {
    const figures = ctx.store.dayFigures(day);
    const timeZone = ctx.store.timeZone();
    print(ctx, { ok: true, day, time_zone: timeZone, source: "this_device", figures }, () =>
      [`${day} (${timeZone}): this device's copy of the day's POS figures, not the branch's report (the proof that every till's sales are in needs the server)`, "", ...figureLines(figures, new Map())].join("\n"),
    );
    return 0;
  }
  const answer = await serverCall(configOf(ctx), "GET", `days/${day}/report`);
  if (answer.kind !== "ok") return refused(ctx, answer, "read the day's report");
  const r = reportOf(answer.body);
  print(ctx, { ok: true, ...r }, () => zReportText(r));
  return 0;
}

async function close(argv: string[], ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(argv, dayFlags, 1);
  for (const flag of ["till", "counted", "currency", "local"] as const) if (values[flag] !== undefined) throw new UsageError(`--${flag} is not for \`day close\``);
  const day = dayOf(ctx, positionals[0]);
  const body: Record<string, string> = {};
  const n = note(values.note);
  if (n !== undefined) body.note = n;
  const answer = await serverCall(configOf(ctx), "POST", `days/${day}/close`, body);
  if (answer.kind !== "ok") return refused(ctx, answer, "close a business day");
  const r = reportOf(answer.body);
  print(ctx, { ok: true, ...r }, () => zReportText(r));
  return 0;
}

async function drawer(argv: string[], ctx: Ctx): Promise<number> {
  const { values, positionals } = parse(argv, dayFlags, 1);
  if (values.local) throw new UsageError("--local is not for `day drawer`");
  const day = dayOf(ctx, positionals[0], true);
  if (values.till === undefined || values.till === "") throw new UsageError("day drawer: --till missing; expected the till's device id (from `day report`)");
  const till = DeviceId.safeParse(values.till);
  if (!till.success) throw new UsageError(`--till: received ${JSON.stringify(values.till.slice(0, 100))}, expected a device id such as 01936f3c-0000-7000-8000-0000000000a1`);
  if (values.counted === undefined || values.counted === "") throw new UsageError("day drawer: --counted missing; expected the cash counted, e.g. 12500.00");
  const counted = minorUnits(values.counted, "--counted");
  const currency = Currency.safeParse(values.currency ?? "LKR");
  if (!currency.success) throw new UsageError(`--currency: received ${JSON.stringify(values.currency)}, expected a currency code such as LKR or USD`);
  const body: Record<string, unknown> = { device_id: till.data, currency: currency.data, counted_minor: counted };
  const n = note(values.note);
  if (n !== undefined) body.note = n;
  const answer = await serverCall(configOf(ctx), "POST", `days/${day}/drawer`, body);
  if (answer.kind !== "ok") return refused(ctx, answer, "count a till's drawer");
  const r = reportOf(answer.body);
  const count = r.drawer_counts.find((c) => c.device_id === till.data && c.currency === currency.data);
  print(ctx, { ok: true, ...r }, () => (count ? drawerLine(count, r) : zReportText(r)));
  return 0;
}

const METHOD_WORDS: Record<PosPaymentMethod, string> = { cash: "cash", card: "card", e_wallet: "e-wallet" };

/** `14:32` on the day, `2026-11-26 09:05` on another, in the branch's zone. */
function when(iso: string, r: { day: string; time_zone: string }): string {
  const local = zonedIso(Date.parse(iso), r.time_zone);
  return local.slice(0, 10) === r.day ? local.slice(11, 16) : `${local.slice(0, 10)} ${local.slice(11, 16)}`;
}

function figuresLine(label: string, f: MethodFigures, currency: string): string {
  return `${label} sales ${formatCount(f.sales_count)} ${formatMinor(f.sales_minor)}, corrections ${formatCount(f.corrections_count)} ${formatMinor(f.corrections_minor)}, voids ${formatCount(f.voids_count)} ${formatMinor(f.voids_minor)}, net ${formatMinor(f.net_minor, currency)}`;
}

function methodLines(byMethod: Partial<Record<PosPaymentMethod, MethodFigures>>, currency: string): string[] {
  return PosPaymentMethod.options.flatMap((m) => {
    const f = byMethod[m];
    return f ? [figuresLine(`    ${METHOD_WORDS[m].padEnd(8)}`, f, currency)] : [];
  });
}

function figureLines(figures: DayFigures, proofs: ReadonlyMap<string, TillProof>): string[] {
  if (figures.currencies.length === 0) return ["no POS orders on this day"];
  const lines = ["branch:"];
  for (const c of figures.currencies) {
    lines.push(figuresLine(`  ${c.currency} receipts #${c.first_receipt_no}–#${c.last_receipt_no}:`, c.total, c.currency), ...methodLines(c.by_method, c.currency));
  }
  for (const t of figures.tills) {
    const proof = proofs.get(t.device_id);
    lines.push(`till ${t.device_id}${proof?.user_id ? ` (${proof.user_id})` : ""}:`);
    lines.push(figuresLine(`  ${t.currency} receipts #${t.first_receipt_no}–#${t.last_receipt_no}:`, t.total, t.currency), ...methodLines(t.by_method, t.currency));
  }
  return lines;
}

function revisionLine(rev: DayRevision, r: DayReport): string {
  if (rev.reason === "close") return `  revision 1: closed ${when(rev.at, r)} by ${rev.by_user}${rev.note ? ` (${rev.note})` : ""}`;
  const moved = rev.changes.map((c) => `till ${c.device_id} ${c.total.net_minor >= 0 ? "+" : ""}${formatMinor(c.total.net_minor, c.currency)} net (${plural(c.total.sales_count, "sale")})`).join("; ");
  return `  revision ${rev.revision}: amended ${when(rev.at, r)} by late POS commits: ${moved}`;
}

function drawerLine(c: DrawerCount, r: DayReport): string {
  const sign = c.variance_minor > 0 ? "+" : "";
  return `  till ${c.device_id} ${c.currency}: counted ${formatMinor(c.counted_minor)}, expected ${formatMinor(c.expected_minor)}, variance ${sign}${formatMinor(c.variance_minor, c.currency)}${c.variance_minor < 0 ? " (short)" : c.variance_minor > 0 ? " (over)" : ""} · ${when(c.at, r)} by ${c.by_user}${c.note ? ` (${c.note})` : ""}`;
}

/** The Z-report as plain text: what `day report` and `day close` print. */
export function zReportText(r: DayReport): string {
  const latest = r.revisions.at(-1);
  const head = [
    `Z-report: ${r.studio}, business day ${r.day} (${r.time_zone})`,
    latest ? `closed, revision ${latest.revision}${latest.revision > 1 ? " (amended)" : ""} · generated ${when(r.generated_at, r)}` : `open: figures so far · generated ${when(r.generated_at, r)}`,
  ];
  const unconfirmed = r.tills.filter((t) => t.state === "unconfirmed").length;
  const proofs = new Map(r.tills.map((t) => [t.device_id as string, t]));
  const lines = [...head, "", ...figureLines(r.figures, proofs), ""];
  lines.push(r.tills.length === 0 ? "tills: none rang or reported on this day" : `tills (${unconfirmed === 0 ? "all confirmed" : `${plural(unconfirmed, "till")} not yet confirmed`}):`);
  for (const t of r.tills) lines.push(`  ${t.state === "confirmed" ? "✓" : "!"} ${t.device_id}${t.user_id ? ` (${t.user_id})` : ""}: ${t.why}`);
  if (r.revisions.length > 0) lines.push("", "revisions:", ...r.revisions.map((rev) => revisionLine(rev, r)));
  if (r.drawer_counts.length > 0) lines.push("", "drawer counts:", ...r.drawer_counts.map((c) => drawerLine(c, r)));
  return lines.join("\n");
}
