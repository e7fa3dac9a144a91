/**
 * Close of day (protocol v10, issue 19): one business day's Z-report as the branch answers it
 * (`GET …/days/:day/report`), today in the branch's zone by the server's clock unless another day is
 * picked. Its state (open: figures so far; closed: revision N, when and by whom), the figures per
 * till, currency and payment method with the receipt range, the branch's totals per currency, every
 * till's proof (confirmed, or not yet confirmed with the server's `why`: never hidden), every revision
 * with what it changed, and the drawer counts with their variance.
 *
 * An owner or manager closes the day (with an optional note) and counts drawers; the server decides,
 * and a refusal (409 closed already, 422 not begun, a role refused) is said in words. A viewer sees
 * the report and no button. Live: a `day_report` for the shown day, a POS commit while it is open,
 * and device news while it is closed (tills confirming) read the report again, at most once a second.
 * Printable: the print stylesheet (app.css) leaves the Z-report alone on the page.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { formatCount, formatMinor, parseAmountMinor, plural } from "../domain/amounts.js";
import type { DayReport, DayRevision, MethodFigures, TillProof } from "../domain/day-report.js";
import type { PosPaymentMethod } from "../domain/entities/pos.js";
import type { CloseOutcome } from "./day-api.js";
import { DAY, type Drawer, drawersOf, METHOD_WORDS, METHODS, amountCell, netWords, revisionWords, shiftDay, todayIn, varianceWords, voidsCell } from "./day-words.js";
import { type BranchFeed, throttle } from "./feed.js";
import { failureWords, useFeed, useLoad } from "./hooks.js";
import type { ApiResult } from "./link.js";
import { mayCloseDay } from "./sessions.js";
import { FormDialog, LoadState } from "./ui.js";
import { ago, deviceLabel, formatDay, formatTime, shortId } from "./words.js";

/** Live news reads the report again at most once a second (a close makes a burst of tills reporting). */
export const DAY_REFRESH_MS = 1_000;

type Outcome = { tone: "ok" | "warn"; text: string };

export function DayView({ feed }: { feed: BranchFeed }) {
  useFeed(feed);
  const [picked, setPicked] = useState<string | null>(null);
  // Today is the branch's, by the server's clock: known once the branch has welcomed this dashboard.
  const today = feed.welcome ? todayIn(feed.serverNow(), feed.timeZone) : null;
  const day = picked ?? today;
  return (
    <div class="stack day-view">
      <section class="card no-print" aria-labelledby="day-pick-title">
        <h2 id="day-pick-title" class="visually-hidden">
          Pick a business day
        </h2>
        <form class="row day-pick" aria-label="Pick a business day" onSubmit={(e) => e.preventDefault()}>
          <div class="field">
            <label for="day-pick">Business day ({feed.timeZone})</label>
            <input
              id="day-pick"
              type="date"
              value={day ?? ""}
              onInput={(e) => {
                const v = (e.target as HTMLInputElement).value;
                if (DAY.test(v)) setPicked(v);
              }}
            />
          </div>
          <button type="button" class="secondary" disabled={!day} onClick={() => day && setPicked(shiftDay(day, -1))}>
            ← Day before
          </button>
          <button type="button" class="secondary" disabled={!day} onClick={() => day && setPicked(shiftDay(day, 1))}>
            Day after →
          </button>
          <button type="button" class="secondary" disabled={!today || day === today} onClick={() => setPicked(null)}>
            Today
          </button>
        </form>
      </section>
      {day === null ? (
        <section class="card">
          <p class="muted" aria-live="polite">
            Waiting for the branch…
          </p>
        </section>
      ) : feed.dayApi === null ? (
        <section class="card">
          <p class="notice bad">This dashboard cannot reach the branch's end-of-day routes.</p>
        </section>
      ) : (
        <DayReportView key={day} feed={feed} day={day} today={today} />
      )}
    </div>
  );
}

function DayReportView({ feed, day, today }: { feed: BranchFeed; day: string; today: string | null }) {
  const api = feed.dayApi!;
  const { data, reload } = useLoad(() => api.report(day), day);
  const [closing, setClosing] = useState(false);
  const [counting, setCounting] = useState<Drawer | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const outcomeRef = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    if (outcome) outcomeRef.current?.focus();
  }, [outcome]);
  // The live rules read the state the report is in now, not the one when they were made.
  const state = useRef<DayReport["state"] | null>(null);
  state.current = data.kind === "ready" ? data.value.state : null;
  useEffect(() => {
    const refresh = throttle(reload, DAY_REFRESH_MS);
    const offs = [
      // The day's report was issued (closed or amended), or the connection came back (null: one may have been missed).
      feed.onDayReport((m) => {
        if (m === null || m.day === day) refresh();
      }),
      // A closed day: tills confirm as they report (`observed` carries their news).
      feed.onDevices(() => {
        if (state.current === "closed") refresh();
      }),
      // An open day: its figures so far move with every POS commit (a closed day's move by day_report).
      feed.onChanges((changes) => {
        if (state.current === "open" && changes.some((c) => c.entity_type === "pos_order")) refresh();
      }),
    ];
    return () => {
      for (const off of offs) off();
      refresh.cancel();
    };
  }, [feed, reload, day]);

  if (data.kind !== "ready") {
    return (
      <section class="card">
        <LoadState data={data} what={`the report of ${formatDay(day)}`} />
      </section>
    );
  }
  const r = data.value;
  const tz = r.time_zone;
  const canAct = mayCloseDay(feed.signIn.role);
  const names = new Map<string, TillProof>(r.tills.map((t) => [t.device_id, t]));
  const tillName = (id: string) => deviceLabel(feed.devices.get(id) ?? (names.get(id)?.user_id ? { device_id: id, user_id: names.get(id)!.user_id! } : undefined), id);
  const latest = r.revisions.at(-1) ?? null;
  const first = r.revisions[0] ?? null;
  const unconfirmed = r.tills.filter((t) => t.state === "unconfirmed");

  return (
    <>
      {outcome && (
        <p class={`notice ${outcome.tone} no-print`} role="status" tabIndex={-1} ref={outcomeRef} data-testid="day-outcome">
          {outcome.text}
        </p>
      )}
      <section class="card z-head" aria-labelledby="day-title" data-testid="day-head">
        <div class="z-title">
          <div>
            <p class="z-studio" data-testid="day-studio">
              {r.studio}
            </p>
            <h2 id="day-title">Z-report · {formatDay(r.day)}</h2>
          </div>
          <span class={`pill ${r.state === "closed" ? "ok" : "warn"}`} data-testid="day-state">
            {r.state === "closed" && latest ? `Closed · revision ${formatCount(latest.revision)}` : "Open · not closed yet"}
          </span>
        </div>
        <dl class="facts z-facts">
          <dt>Business day</dt>
          <dd>
            {r.day} in {tz}
            {today !== null && r.day === today ? " (today)" : ""}
          </dd>
          <dt>State</dt>
          <dd data-testid="day-state-words">
            {r.state === "open" || !first || !latest ? (
              "Open: the figures so far. Closing fixes them as revision 1; sales that arrive later amend it."
            ) : (
              <>
                Closed at <time dateTime={first.at}>{formatTime(first.at, tz)}</time> by {first.by_user}
                {latest.revision > 1 ? `; amended ${plural(latest.revision - 1, "time")}, latest at ${formatTime(latest.at, tz)}` : ""}
              </>
            )}
          </dd>
          {latest && (
            <>
              <dt>Revision</dt>
              <dd data-testid="day-revision">
                {formatCount(latest.revision)} (through change {formatCount(latest.through_seq)})
              </dd>
            </>
          )}
          {first?.note && (
            <>
              <dt>Closer's note</dt>
              <dd>{first.note}</dd>
            </>
          )}
          <dt>Net</dt>
          <dd class="strong" data-testid="day-net">
            {netWords(r.figures)}
          </dd>
          <dt>Generated</dt>
          <dd>
            <time dateTime={r.generated_at}>{formatTime(r.generated_at, tz)}</time> (the server's clock)
          </dd>
        </dl>
        <div class="row no-print z-actions">
          {canAct && r.state === "open" && (
            <button type="button" class="primary" onClick={() => setClosing(true)}>
              Close day…
            </button>
          )}
          <button type="button" class="secondary" onClick={() => window.print()}>
            Print
          </button>
        </div>
      </section>

      <TillsSection r={r} tillName={tillName} now={feed.serverNow()} unconfirmed={unconfirmed} />

      <section class="card" aria-labelledby="day-totals-title">
        <h2 id="day-totals-title">Branch totals</h2>
        {r.figures.currencies.length === 0 ? (
          <p class="muted">No POS sales on this day.</p>
        ) : (
          <FiguresTable
            testId="day-totals"
            caption="Branch totals per currency and payment method"
            groups={r.figures.currencies.map((c) => ({ key: c.currency, title: `${c.currency} · receipts #${c.first_receipt_no}–#${c.last_receipt_no}`, currency: c.currency, byMethod: c.by_method, total: c.total }))}
          />
        )}
      </section>

      <section class="card" aria-labelledby="day-tills-title">
        <h2 id="day-tills-title">Per till</h2>
        {r.figures.tills.length === 0 ? (
          <p class="muted">No till rang a sale on this day.</p>
        ) : (
          <FiguresTable
            testId="day-till-figures"
            caption="Figures per till, currency and payment method"
            groups={r.figures.tills.map((t) => ({ key: `${t.device_id}|${t.currency}`, device: t.device_id, title: `${tillName(t.device_id)} · ${t.currency} · receipts #${t.first_receipt_no}–#${t.last_receipt_no}`, currency: t.currency, byMethod: t.by_method, total: t.total }))}
          />
        )}
      </section>

      <DrawerSection r={r} tillName={tillName} canAct={canAct} onCount={setCounting} />

      {r.revisions.length > 0 && <RevisionsSection revisions={r.revisions} tz={tz} tillName={tillName} />}

      {closing && (
        <CloseDialog
          r={r}
          today={today}
          unconfirmed={unconfirmed}
          tillName={tillName}
          onCancel={() => setClosing(false)}
          close={(note) => api.close(day, note)}
          onDone={(o) => {
            setClosing(false);
            setOutcome(o);
            reload();
          }}
        />
      )}
      {counting && (
        <DrawerDialog
          drawer={counting}
          day={day}
          tillName={tillName}
          onCancel={() => setCounting(null)}
          count={(counted, note) => api.countDrawer(day, { device_id: counting.device_id, currency: counting.currency, counted_minor: counted, ...(note ? { note } : {}) })}
          onDone={(o) => {
            setCounting(null);
            setOutcome(o);
            reload();
          }}
        />
      )}
    </>
  );
}

function TillsSection({ r, tillName, now, unconfirmed }: { r: DayReport; tillName: (id: string) => string; now: number; unconfirmed: TillProof[] }) {
  return (
    <section class="card" aria-labelledby="day-proof-title" data-testid="day-proof">
      <h2 id="day-proof-title">Tills: is every sale in?</h2>
      {r.tills.length === 0 ? (
        <p class="muted">No till rang or could have rung on this day.</p>
      ) : (
        <>
          <p class={unconfirmed.length === 0 ? "summary state ok" : "notice warn"} data-testid="day-proof-summary">
            {unconfirmed.length === 0
              ? `All ${plural(r.tills.length, "till")} confirmed: the branch has every sale they rang on this day.`
              : `${formatCount(unconfirmed.length)} of ${plural(r.tills.length, "till")} not yet confirmed: the figures may not hold all of this day's sales yet.`}
          </p>
          <div class="scroll">
            <table class="data proofs" data-testid="day-proof-table">
              <caption class="visually-hidden">Every till of the day and whether the branch has all its sales</caption>
              <thead>
                <tr>
                  <th scope="col">Till</th>
                  <th scope="col">Proof</th>
                  <th scope="col">Why</th>
                  <th scope="col">Connection</th>
                  <th scope="col" class="num">Queued for the day</th>
                  <th scope="col">Last receipt of the day</th>
                </tr>
              </thead>
              <tbody>
                {r.tills.map((t) => (
                  <tr key={t.device_id} data-till={t.device_id} class={t.state === "confirmed" ? "confirmed" : "unconfirmed"}>
                    <th scope="row">
                      <span class="nowrap">{tillName(t.device_id)}</span>
                      {t.app && <span class="block muted small-text">{t.app}</span>}
                    </th>
                    <td class="nowrap">{t.state === "confirmed" ? <span class="state ok">✓ Confirmed</span> : <span class="state bad">⚠ Not yet confirmed</span>}</td>
                    <td class="why">{t.why}</td>
                    <td class="nowrap">
                      {t.connected ? (
                        <span class="state ok">Connected</span>
                      ) : t.last_seen_at ? (
                        <span>
                          Offline, last seen <time dateTime={t.last_seen_at} title={formatTime(t.last_seen_at, r.time_zone)}>{ago(t.last_seen_at, now)}</time>
                        </span>
                      ) : (
                        "Never seen"
                      )}
                    </td>
                    <td class="num">{t.pending === null ? "—" : formatCount(t.pending)}</td>
                    <td class="mono">{t.last_local_receipt_no ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

interface FiguresGroup {
  key: string;
  device?: string;
  title: string;
  currency: string;
  byMethod: Partial<Record<PosPaymentMethod, MethodFigures>>;
  total: MethodFigures;
}

/** Per group (a till and currency, or a currency): a row per payment method, then the total. */
function FiguresTable({ groups, caption, testId }: { groups: FiguresGroup[]; caption: string; testId: string }) {
  return (
    <div class="scroll">
      <table class="data z-figures" data-testid={testId}>
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Payment method</th>
            <th scope="col" class="num">Sales</th>
            <th scope="col" class="num">Corrections</th>
            <th scope="col" class="num">Voids</th>
            <th scope="col" class="num">Net</th>
          </tr>
        </thead>
        {groups.map((g) => (
          <tbody key={g.key} data-group={g.key}>
            <tr class="group">
              <th scope="rowgroup" colSpan={5}>
                {g.title}
              </th>
            </tr>
            {METHODS.filter((m) => g.byMethod[m]).map((m) => {
              const f = g.byMethod[m]!;
              return (
                <tr key={m} data-method={m}>
                  <th scope="row">{METHOD_WORDS[m]}</th>
                  <td class="num">{amountCell(f.sales_minor, f.sales_count)}</td>
                  <td class="num">{amountCell(f.corrections_minor, f.corrections_count)}</td>
                  <td class="num">{voidsCell(f)}</td>
                  <td class="num">{formatMinor(f.net_minor)}</td>
                </tr>
              );
            })}
            <tr class="total" data-method="total">
              <th scope="row">Total</th>
              <td class="num">{amountCell(g.total.sales_minor, g.total.sales_count)}</td>
              <td class="num">{amountCell(g.total.corrections_minor, g.total.corrections_count)}</td>
              <td class="num">{voidsCell(g.total)}</td>
              <td class="num strong" data-testid="group-net">
                {formatMinor(g.total.net_minor, g.currency)}
              </td>
            </tr>
          </tbody>
        ))}
      </table>
    </div>
  );
}

function DrawerSection({ r, tillName, canAct, onCount }: { r: DayReport; tillName: (id: string) => string; canAct: boolean; onCount: (d: Drawer) => void }) {
  const drawers = drawersOf(r);
  return (
    <section class="card" aria-labelledby="day-drawers-title">
      <h2 id="day-drawers-title">Drawer counts</h2>
      <p class="muted lead-note">Expected is the till's cash net of the day (cash sales and corrections, less voided cash orders); the variance is counted − expected, negative when cash is missing.</p>
      {drawers.length === 0 ? (
        <p class="muted">No till took money on this day: no drawer to count.</p>
      ) : (
        <div class="scroll">
          <table class="data drawers" data-testid="day-drawers">
            <caption class="visually-hidden">Drawer counts per till and currency, with their variance</caption>
            <thead>
              <tr>
                <th scope="col">Till</th>
                <th scope="col">Currency</th>
                <th scope="col" class="num">Expected cash</th>
                <th scope="col" class="num">Counted</th>
                <th scope="col" class="num">Variance</th>
                <th scope="col">Counted by</th>
                {canAct && <th scope="col" class="no-print">Action</th>}
              </tr>
            </thead>
            <tbody>
              {drawers.map((d) => {
                const c = d.count;
                const v = c ? varianceWords(c.variance_minor, c.currency) : null;
                return (
                  <tr key={`${d.device_id}|${d.currency}`} data-drawer={`${d.device_id}|${d.currency}`} class={v?.tone === "bad" ? "short" : undefined}>
                    <th scope="row">{tillName(d.device_id)}</th>
                    <td>{d.currency}</td>
                    <td class="num">{formatMinor(c ? c.expected_minor : d.expected_minor)}</td>
                    <td class="num">{c ? formatMinor(c.counted_minor) : <span class="muted">not counted</span>}</td>
                    <td class="num" data-testid="variance">
                      {v ? <span class={`state ${v.tone}`}>{v.text}</span> : "—"}
                    </td>
                    <td>
                      {c ? (
                        <>
                          {c.by_user} at <time dateTime={c.at}>{formatTime(c.at, r.time_zone)}</time>
                          {c.note && <span class="block muted">“{c.note}”</span>}
                        </>
                      ) : (
                        "—"
                      )}
                    </td>
                    {canAct && (
                      <td class="no-print">
                        <button type="button" class="secondary small" onClick={() => onCount(d)} aria-label={`${c ? "Count again" : "Count"} the ${d.currency} drawer of ${tillName(d.device_id)}`}>
                          {c ? "Count again…" : "Count…"}
                        </button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function RevisionsSection({ revisions, tz, tillName }: { revisions: DayRevision[]; tz: string; tillName: (id: string) => string }) {
  return (
    <section class="card" aria-labelledby="day-revisions-title">
      <h2 id="day-revisions-title">Revisions</h2>
      <p class="muted lead-note">A closed day's report never changes silently: each sale, correction or void of the day that reaches the branch after the close issues a new revision, with what it changed.</p>
      <ol class="revisions" data-testid="day-revisions">
        {revisions.map((rev) => (
          <li key={rev.revision} data-revision={rev.revision} class={rev.reason === "late_pos" ? "amended" : undefined}>
            <span class="revision-line">{revisionWords(rev, tillName)}</span>
            <span class="block muted small-text">
              <time dateTime={rev.at}>{formatTime(rev.at, tz)}</time> · {rev.by_user} on {shortId(rev.by_device)} · through change {formatCount(rev.through_seq)}
              {rev.reason === "late_pos" ? ` · net now ${netWords(rev.figures)}` : ""}
              {rev.note ? ` · “${rev.note}”` : ""}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}

function CloseDialog({ r, today, unconfirmed, tillName, onCancel, close, onDone }: { r: DayReport; today: string | null; unconfirmed: TillProof[]; tillName: (id: string) => string; onCancel: () => void; close: (note: string | null) => Promise<ApiResult<CloseOutcome>>; onDone: (o: Outcome) => void }) {
  const [note, setNote] = useState("");
  const day = formatDay(r.day);
  return (
    <FormDialog
      id="close-day"
      title={`Close ${day}?`}
      detail={
        <>
          <p>
            Closing fixes the day's figures as revision 1 of its report, at the branch's latest change ({r.figures.currencies.length === 0 ? "no sales so far" : `net ${netWords(r.figures)}`}). Sales of the day that reach the branch later still count; each amends the report as a new revision, never
            silently. Every connected device is told.
          </p>
          {unconfirmed.length > 0 && (
            <p class="state warn">
              {unconfirmed.length === 1 ? "1 till is" : `${formatCount(unconfirmed.length)} tills are`} not yet confirmed (
              {unconfirmed.map((t, i) => (
                <span key={t.device_id} class="nowrap">
                  {i > 0 ? ", " : ""}
                  {tillName(t.device_id)}
                </span>
              ))}
              ): their sales may still be on their way.
            </p>
          )}
        </>
      }
      action="Close day"
      canSubmit
      onCancel={onCancel}
      onSubmit={async () => {
        const answer = await close(note.trim() === "" ? null : note.trim());
        if (!answer.ok) return answer.status === 0 ? "No answer from the server: the day may not have been closed. Your note is kept; try again when the connection is back." : failureWords(answer);
        const o = answer.value;
        if (o.outcome === "closed") {
          onDone({ tone: "ok", text: `Closed ${day} as revision 1 (net ${netWords(o.report.figures)}). Every connected device has been told; tills confirm as they report.` });
          return null;
        }
        if (o.error === "day_closed") {
          onDone({ tone: "warn", text: `Not closed again: ${day} was already closed${o.report?.revisions[0] ? ` at ${formatTime(o.report.revisions[0].at, r.time_zone)} by ${o.report.revisions[0].by_user}` : ""}. Its report, as it stands, is below; it is amended by late sales only.` });
          return null;
        }
        return `Not closed: ${day} has not begun yet in ${r.time_zone}${today ? ` (it is ${formatDay(today)} there now)` : ""}. A business day can be closed once it has begun.`;
      }}
    >
      <label>
        Note (optional, kept with the report)
        <input value={note} maxLength={500} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      </label>
    </FormDialog>
  );
}

function DrawerDialog({ drawer, day, tillName, onCancel, count, onDone }: { drawer: Drawer; day: string; tillName: (id: string) => string; onCancel: () => void; count: (countedMinor: number, note: string | null) => Promise<ApiResult<DayReport>>; onDone: (o: Outcome) => void }) {
  const [amount, setAmount] = useState("");
  const [touched, setTouched] = useState(false);
  const [note, setNote] = useState("");
  const parsed = parseAmountMinor(amount);
  const showError = touched && !parsed.ok;
  const till = tillName(drawer.device_id);
  return (
    <FormDialog
      id="count-drawer"
      title={`Count the ${drawer.currency} drawer of ${till}`}
      detail={
        <p>
          {formatDay(day)}: the till's cash net is {formatMinor(drawer.expected_minor, drawer.currency)}. Enter what the drawer holds; the report shows the difference. The count is kept in the branch's audit.
        </p>
      }
      action="Save count"
      canSubmit={parsed.ok}
      onCancel={onCancel}
      onSubmit={async () => {
        if (!parsed.ok) return parsed.error;
        const answer = await count(parsed.value, note.trim() === "" ? null : note.trim());
        if (!answer.ok) {
          if (answer.status === 0) return "No answer from the server: the count may not have been saved. What you typed is kept; try again when the connection is back.";
          if (answer.status === 404) return `The branch has never seen this till: ${answer.message}`;
          return failureWords(answer);
        }
        const c = answer.value.drawer_counts.find((x) => x.device_id === drawer.device_id && x.currency === drawer.currency);
        onDone({ tone: c && c.variance_minor < 0 ? "warn" : "ok", text: `Counted ${formatMinor(parsed.value, drawer.currency)} in the drawer of ${till}${c ? `: ${varianceWords(c.variance_minor, c.currency).text}` : ""}.` });
        return null;
      }}
    >
      <label>
        Counted cash ({drawer.currency})
        <input
          inputMode="decimal"
          value={amount}
          aria-invalid={showError ? "true" : undefined}
          aria-describedby={showError ? "count-amount-error" : undefined}
          onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
          onBlur={() => setTouched(true)}
        />
      </label>
      {showError && (
        <p id="count-amount-error" class="error">
          {parsed.error}
        </p>
      )}
      <label>
        Note (optional)
        <input value={note} maxLength={500} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
      </label>
    </FormDialog>
  );
}
