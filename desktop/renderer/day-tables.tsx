/**
 * The Z-report's tables (issue 19), shared by the Close of day screen and its print view: figures per
 * currency and per till and payment method, every till's proof, the revisions with what each
 * amendment changed, and the drawer counts with their variance. Pure: the report comes from the core
 * (the server's, or this till's own figures offline); money through formatMinor, counts through
 * formatCount; times in the branch's zone.
 */
import { type ComponentChildren, Fragment } from "preact";
import type { DayFigures, DayReport } from "../app/api.js";
import type { DeviceId } from "../../domain/ids.js";
import type { DrawerCount, FiguresChange, MethodFigures, TillProof } from "../../domain/day-report.js";
import { formatCount, formatMinor } from "../../domain/amounts.js";
import { branchTime } from "./print.js";

const METHODS = [
  ["cash", "Cash"],
  ["card", "Card"],
  ["e_wallet", "E-wallet"],
] as const;

/** The short form of a device id people compare between tills: its last 6 hex digits. */
export const tillShort = (deviceId: string) => deviceId.replace(/-/g, "").slice(-6);

/** "This till" for this device, else "Till 0000a1" (and its user when the report knows it). */
export function tillName(deviceId: string, ownDeviceId: string | null, user?: string | null): string {
  if (deviceId === ownDeviceId) return `This till (${tillShort(deviceId)})`;
  return `Till ${tillShort(deviceId)}${user ? ` (${user})` : ""}`;
}

/** A difference with its sign: `+1,000.00`, `−500.00`, `0.00`. */
export const signedMinor = (minor: number, currency = "") => `${minor > 0 ? "+" : minor < 0 ? "−" : ""}${formatMinor(Math.abs(minor), currency)}`;
const signedCount = (n: number) => `${n > 0 ? "+" : n < 0 ? "−" : ""}${formatCount(Math.abs(n))}`;

/** Sales, corrections and voids as "2 · 4,100.00". */
const countAndAmount = (count: number, minor: number) => (count === 0 ? "—" : `${formatCount(count)} · ${formatMinor(minor)}`);

function FigureCells({ f }: { f: MethodFigures }) {
  return (
    <>
      <td class="num">{countAndAmount(f.sales_count, f.sales_minor)}</td>
      <td class="num">{countAndAmount(f.corrections_count, f.corrections_minor)}</td>
      <td class="num">{countAndAmount(f.voids_count, f.voids_minor)}</td>
      <td class="num net">{formatMinor(f.net_minor)}</td>
    </>
  );
}

const FIGURE_HEADS = (
  <>
    <th scope="col">Method</th>
    <th scope="col" class="num">Sales</th>
    <th scope="col" class="num">Corrections</th>
    <th scope="col" class="num">Voids</th>
    <th scope="col" class="num">Net</th>
  </>
);

/** The rows of one group (a till's currency, or the branch's currency): one per method used, then the total. */
function MethodRows({ lead, group }: { lead: string; group: DayFigures["currencies"][number] }) {
  const used = METHODS.filter(([m]) => group.by_method[m]);
  return (
    <>
      {used.map(([m, words], i) => (
        <tr key={m}>
          {i === 0 ? (
            <th scope="rowgroup" rowSpan={used.length + 1}>
              {lead}
              <div class="muted receipts">
                {group.first_receipt_no === group.last_receipt_no ? `Receipt ${formatCount(group.first_receipt_no)}` : `Receipts ${formatCount(group.first_receipt_no)}–${formatCount(group.last_receipt_no)}`}
              </div>
            </th>
          ) : null}
          <td>{words}</td>
          <FigureCells f={group.by_method[m]!} />
        </tr>
      ))}
      <tr class="total">
        <td>Total</td>
        <FigureCells f={group.total} />
      </tr>
    </>
  );
}

/** Totals per currency: the branch's day. */
export function CurrencyTable({ figures, caption, empty = "No sales on this day." }: { figures: DayFigures; caption: string; empty?: string }) {
  if (figures.currencies.length === 0) return <p class="muted" data-testid="day-no-sales">{empty}</p>;
  return (
    <table class="figures" data-testid="day-currencies">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Currency</th>
          {FIGURE_HEADS}
        </tr>
      </thead>
      {figures.currencies.map((c) => (
        <tbody key={c.currency} data-testid={`day-currency-${c.currency}`}>
          <MethodRows lead={c.currency} group={c} />
        </tbody>
      ))}
    </table>
  );
}

/** Per till and currency, per payment method. */
export function TillTable({ figures, ownDeviceId, users, caption }: { figures: DayFigures; ownDeviceId: string | null; users: ReadonlyMap<string, string | null>; caption: string }) {
  if (figures.tills.length === 0) return null;
  return (
    <table class="figures" data-testid="day-tills">
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Till and currency</th>
          {FIGURE_HEADS}
        </tr>
      </thead>
      {figures.tills.map((t) => (
        <tbody key={`${t.device_id}/${t.currency}`} data-testid="day-till">
          <MethodRows lead={`${tillName(t.device_id, ownDeviceId, users.get(t.device_id))}, ${t.currency}`} group={t} />
        </tbody>
      ))}
    </table>
  );
}

/** Every till's proof: confirmed, or not yet with why, always shown (a till is never left out). */
export function ProofList({ tills, ownDeviceId }: { tills: readonly TillProof[]; ownDeviceId: string | null }) {
  if (tills.length === 0) return <p class="muted">No till rang on this day or could have.</p>;
  return (
    <ul class="proofs" aria-label="Proof per till">
      {tills.map((t) => (
        <li key={t.device_id} class={`proof ${t.state}`} data-testid="day-proof">
          <span class={`badge ${t.state === "confirmed" ? "ok" : "pending"}`}>{t.state === "confirmed" ? "confirmed" : "not yet confirmed"}</span>{" "}
          <strong>{tillName(t.device_id, ownDeviceId, t.user_id)}</strong>
          {t.connected ? <span class="muted"> · online</span> : <span class="muted"> · offline</span>}
          <div class="why">{t.why}</div>
        </li>
      ))}
    </ul>
  );
}

const REASON_WORDS = { close: "Closed", late_pos: "Amended: late sales" } as const;

/** Every issue of the report, oldest first; an amendment with the difference it made per till and currency. */
export function RevisionList({ report, ownDeviceId }: { report: DayReport; ownDeviceId: string | null }) {
  const users = tillUsers(report);
  if (report.revisions.length === 0) return <p class="muted">Not closed yet: no revisions.</p>;
  return (
    <ol class="revisions" aria-label="Revisions">
      {report.revisions.map((r) => (
        <li key={r.revision} data-testid="day-revision">
          <strong>
            Revision {formatCount(r.revision)}: {REASON_WORDS[r.reason]}
          </strong>{" "}
          <span class="muted">
            {branchTime(r.at, report.time_zone)} · {r.reason === "close" ? `by ${r.by_user}` : `from ${tillName(r.by_device, ownDeviceId, r.by_user)}`} · through change {formatCount(r.through_seq)}
          </span>
          {r.note && <div class="note">Note: {r.note}</div>}
          {r.changes.length > 0 && <ChangesTable changes={r.changes} ownDeviceId={ownDeviceId} users={users} revision={r.revision} />}
        </li>
      ))}
    </ol>
  );
}

function ChangesTable({ changes, ownDeviceId, users, revision }: { changes: readonly FiguresChange[]; ownDeviceId: string | null; users: ReadonlyMap<string, string | null>; revision: number }) {
  return (
    <table class="figures changes" data-testid="day-changes">
      <caption>What revision {formatCount(revision)} changed against the one before</caption>
      <thead>
        <tr>
          <th scope="col">Till and currency</th>
          <th scope="col" class="num">Sales</th>
          <th scope="col" class="num">Corrections</th>
          <th scope="col" class="num">Voids</th>
          <th scope="col" class="num">Net</th>
        </tr>
      </thead>
      <tbody>
        {changes.map((c) => (
          <tr key={`${c.device_id}/${c.currency}`}>
            <th scope="row">
              {tillName(c.device_id, ownDeviceId, users.get(c.device_id))}, {c.currency}
            </th>
            <td class="num">{c.total.sales_count === 0 && c.total.sales_minor === 0 ? "—" : `${signedCount(c.total.sales_count)} · ${signedMinor(c.total.sales_minor)}`}</td>
            <td class="num">{c.total.corrections_count === 0 && c.total.corrections_minor === 0 ? "—" : `${signedCount(c.total.corrections_count)} · ${signedMinor(c.total.corrections_minor)}`}</td>
            <td class="num">{c.total.voids_count === 0 && c.total.voids_minor === 0 ? "—" : `${signedCount(c.total.voids_count)} · ${signedMinor(c.total.voids_minor)}`}</td>
            <td class="num net">{signedMinor(c.total.net_minor, c.currency)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** One row of the drawer table: a till and currency that rang cash, or was counted. */
export interface DrawerRow {
  device_id: DeviceId;
  currency: string;
  expected_minor: number;
  count: DrawerCount | null;
}

/** The tills and currencies of the day, with their cash net and latest count. */
export function drawerRows(report: DayReport): DrawerRow[] {
  const rows = new Map<string, DrawerRow>();
  for (const t of report.figures.tills) rows.set(`${t.device_id}/${t.currency}`, { device_id: t.device_id, currency: t.currency, expected_minor: t.by_method.cash?.net_minor ?? 0, count: null });
  for (const c of report.drawer_counts) rows.set(`${c.device_id}/${c.currency}`, { device_id: c.device_id, currency: c.currency, expected_minor: c.expected_minor, count: c });
  return [...rows.values()].sort((a, b) => (a.device_id + a.currency < b.device_id + b.currency ? -1 : 1));
}

/** "exact", "short 500.00 LKR", "over 200.00 LKR". */
export function varianceWords(varianceMinor: number, currency: string): { words: string; tone: "ok" | "warn" | "bad" } {
  if (varianceMinor === 0) return { words: "exact", tone: "ok" };
  return varianceMinor < 0 ? { words: `short ${formatMinor(-varianceMinor, currency)}`, tone: "bad" } : { words: `over ${formatMinor(varianceMinor, currency)}`, tone: "warn" };
}

/** The drawer table; `action` renders the manager's button for a row (none when read-only or printed). */
export function DrawerTable(props: { report: DayReport; ownDeviceId: string | null; users: ReadonlyMap<string, string | null>; action?: (row: DrawerRow) => ComponentChildren }) {
  const rows = drawerRows(props.report);
  if (rows.length === 0) return <p class="muted">No till rang on this day: no drawer to count.</p>;
  return (
    <table class="figures" data-testid="day-drawers">
      <caption>Cash in each till's drawer against its cash net (cash sales + cash corrections − voided cash orders)</caption>
      <thead>
        <tr>
          <th scope="col">Till and currency</th>
          <th scope="col" class="num">Expected cash</th>
          <th scope="col" class="num">Counted</th>
          <th scope="col" class="num">Variance</th>
          <th scope="col">Counted by</th>
          {props.action && (
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          )}
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const v = r.count ? varianceWords(r.count.variance_minor, r.currency) : null;
          return (
            <Fragment key={`${r.device_id}/${r.currency}`}>
              <tr data-testid="day-drawer">
                <th scope="row">
                  {tillName(r.device_id, props.ownDeviceId, props.users.get(r.device_id))}, {r.currency}
                </th>
                <td class="num">{formatMinor(r.expected_minor)}</td>
                <td class="num">{r.count ? formatMinor(r.count.counted_minor) : "not counted"}</td>
                <td class={`num variance ${v?.tone ?? ""}`} data-testid="day-variance">
                  {r.count && v ? `${signedMinor(r.count.variance_minor)} (${v.words})` : "—"}
                </td>
                <td>
                  {r.count ? `${r.count.by_user}, ${branchTime(r.count.at, props.report.time_zone)}` : ""}
                  {r.count?.note ? <div class="muted">{r.count.note}</div> : null}
                </td>
                {props.action && <td>{props.action(r)}</td>}
              </tr>
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}

/** Who each till is, from the report's proofs (the user it was last signed in as). */
export const tillUsers = (report: DayReport | null): Map<string, string | null> => new Map((report?.tills ?? []).map((t) => [t.device_id, t.user_id]));
