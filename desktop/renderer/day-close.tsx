/**
 * Close of day (issue 19): a business day's report as the branch has it (open or closed, its
 * revision, every till's figures and proof, the revisions with what each amendment changed, the
 * drawer counts), and for a manager or the owner the close, the drawer counts and the printed
 * Z-report. The core asks the server (app/day-close.ts); when it cannot, this till's own figures are
 * shown, labelled as not the branch's, and nothing can be closed.
 *
 * The day defaults to today in the branch's zone from the core's clock (I13: no wall clock here).
 * The report is read again when data changes (a late sale arrives live, the branch re-issues the
 * report) and when the sync state moves (back online, the branch's report replaces this till's copy).
 */
import { useEffect, useState } from "preact/hooks";
import type { DayActionResult, DayReport, DayView } from "../app/api.js";
import { parseAmountMinor } from "../../domain/amounts.js";
import { formatCount } from "../../domain/amounts.js";
import { AmountInput } from "./amount-input.js";
import { useConfirm } from "./ask.js";
import { CurrencyTable, DrawerTable, type DrawerRow, ProofList, RevisionList, TillTable, tillName, tillUsers } from "./day-tables.js";
import { useApi, useRevision, useStatus } from "./hooks.js";
import { branchTime } from "./print.js";
import { ZReportPrint } from "./day-print.js";

export function DayCloseScreen() {
  const api = useApi();
  const revision = useRevision();
  const status = useStatus();
  const today = status?.clock.today ?? null;
  const own = status?.identity?.device_id ?? null;
  const syncKind = status ? (status.paused ? "paused" : status.sync.kind) : null;
  const [picked, setPicked] = useState<string | null>(null);
  const day = picked ?? today;
  const [shown, setShown] = useState<DayView | null>(null);
  const [loading, setLoading] = useState(false);
  const [message, setMessage] = useState<{ tone: "ok" | "bad"; words: string } | null>(null);
  const [printing, setPrinting] = useState(false);
  const [refreshes, setRefreshes] = useState(0);

  useEffect(() => {
    if (!day) return;
    let latest = true;
    setLoading(true);
    void api.call({ method: "dayReport", day }).then(
      (view) => {
        if (!latest) return;
        setShown(view);
        setLoading(false);
      },
      (e: unknown) => {
        if (!latest) return;
        setShown({ source: "refused", day, message: `The app could not read the report: ${e instanceof Error ? e.message : String(e)}`, this_till: { words: "", tone: "quiet", pending: 0 } });
        setLoading(false);
      },
    );
    return () => {
      latest = false;
    };
  }, [api, day, revision, syncKind, refreshes]);

  /** An action's answer: the report it carries replaces the one shown; its error is said. */
  const settle = (result: DayActionResult, done: string) => {
    if (result.view) setShown(result.view);
    setMessage(result.ok ? { tone: "ok", words: done } : { tone: "bad", words: result.error });
  };

  const view = shown && shown.day === day ? shown : null;
  const report = view?.source === "branch" ? view.report : null;
  return (
    <div class="day-close" data-testid="day-close">
      <section class="card" aria-labelledby="day-title">
        <h2 id="day-title">Close of day</h2>
        <div class="history-controls">
          <label class="day-pick">
            Business day
            <input
              type="date"
              value={day ?? ""}
              max="9999-12-31"
              onChange={(e) => {
                const value = (e.target as HTMLInputElement).value;
                setMessage(null);
                setPicked(value === "" ? null : value);
              }}
            />
          </label>
          <button class="secondary" disabled={picked === null || picked === today} onClick={() => setPicked(null)}>
            Today{today ? ` (${today})` : ""}
          </button>
          <button class="secondary" onClick={() => setRefreshes((n) => n + 1)}>
            Refresh
          </button>
          <span class="muted" aria-live="polite">
            {loading ? "Reading the report…" : ""}
          </span>
        </div>
        {view && <p class={`this-till ${view.this_till.tone}`} data-testid="day-this-till">{view.this_till.words}</p>}
        {view === null && <p class="muted">Reading the report…</p>}
        {view?.source === "refused" && (
          <p class="notice bad" role="alert" data-testid="day-refused">
            {view.message}
          </p>
        )}
        {view?.source === "this_till" && <LocalLabel why={view.why} />}
        {report && <ReportHead report={report} />}
        {message && (
          <p class={message.tone === "bad" ? "notice bad" : "notice ok"} role={message.tone === "bad" ? "alert" : "status"} data-testid="day-message">
            {message.words}
          </p>
        )}
        {view?.source === "branch" && view.may_close && (
          <ManagerActions report={view.report} onDone={settle} onPrint={() => setPrinting(true)} />
        )}
      </section>

      {view?.source === "this_till" && (
        <section class="card" aria-labelledby="day-local-title">
          <h2 id="day-local-title">This till's figures for {view.day}</h2>
          {view.this_till.pending > 0 && (
            <p class="muted" data-testid="day-local-pending">
              Sales the branch has confirmed only: {view.this_till.pending === 1 ? "1 POS change" : `${formatCount(view.this_till.pending)} POS changes`} of this day queued on this till {view.this_till.pending === 1 ? "is" : "are"} not in these figures yet.
            </p>
          )}
          <CurrencyTable figures={view.figures} caption="This till's copy, per currency (its own sales and the ones it has synced)" empty="No sales of this day confirmed by the branch on this till yet." />
          <TillTable figures={view.figures} ownDeviceId={own} users={new Map()} caption="Per till, as this till has them" />
        </section>
      )}

      {report && (
        <>
          <section class="card" aria-labelledby="day-figures-title">
            <h2 id="day-figures-title">Figures</h2>
            <CurrencyTable figures={report.figures} caption={report.state === "closed" ? `Totals per currency, revision ${formatCount(report.revisions.at(-1)?.revision ?? 1)}` : "Totals per currency, the day so far"} />
            <TillTable figures={report.figures} ownDeviceId={own} users={tillUsers(report)} caption="Per till and payment method" />
          </section>
          <section class="card" aria-labelledby="day-proof-title">
            <h2 id="day-proof-title">Proof per till</h2>
            <p class="muted">A till is confirmed when it has told the branch, after the close or once the day had ended on its own clock, that nothing of the day is waiting on it.</p>
            <ProofList tills={report.tills} ownDeviceId={own} />
          </section>
          <section class="card" aria-labelledby="day-drawer-title">
            <h2 id="day-drawer-title">Drawer counts</h2>
            {view?.source === "branch" && view.may_close ? (
              <DrawerCounts report={report} ownDeviceId={own} onDone={settle} />
            ) : (
              <DrawerTable report={report} ownDeviceId={own} users={tillUsers(report)} />
            )}
          </section>
          <section class="card" aria-labelledby="day-revisions-title">
            <h2 id="day-revisions-title">Revisions</h2>
            <RevisionList report={report} ownDeviceId={own} />
          </section>
        </>
      )}
      {printing && report && <ZReportPrint report={report} onClose={() => setPrinting(false)} />}
    </div>
  );
}

/** Offline: the figures are this till's, and say so where nobody can miss it. */
function LocalLabel({ why }: { why: string }) {
  return (
    <div class="notice warn" role="note" data-testid="day-local-label">
      <strong>This till's copy, not the branch's report: proof per till needs the server.</strong>
      <div>{why} Other tills' sales this till has not synced are missing, and the day cannot be closed or its drawers counted until the server answers.</div>
    </div>
  );
}

function ReportHead({ report }: { report: DayReport }) {
  const latest = report.revisions.at(-1);
  const close = report.revisions[0];
  const unconfirmed = report.tills.filter((t) => t.state !== "confirmed").length;
  return (
    <div class="day-head" data-testid="day-head">
      <p class="headline">
        <span class={`badge ${report.state === "closed" ? "ok" : "pending"}`} data-testid="day-state">
          {report.state === "closed" ? "Closed" : "Open"}
        </span>{" "}
        {report.studio} · {report.day}
        {latest && <span data-testid="day-revision-no"> · revision {formatCount(latest.revision)}</span>}
      </p>
      <p class="muted">
        {close ? `Closed ${branchTime(close.at, report.time_zone)} by ${close.by_user}${close.note ? ` (“${close.note}”)` : ""}. ` : "Not closed: the figures are the day so far. "}
        {latest && latest.revision > 1 ? `Amended ${formatCount(latest.revision - 1)}× by late sales, last ${branchTime(latest.at, report.time_zone)}. ` : ""}
        Report of {branchTime(report.generated_at, report.time_zone)} ({report.time_zone}).
      </p>
      {unconfirmed > 0 && (
        <p class="notice warn" data-testid="day-unconfirmed">
          {unconfirmed === 1 ? "1 till is not yet confirmed: its sales" : `${formatCount(unconfirmed)} tills are not yet confirmed: their sales`} of the day may not all be in. Late sales still count: they re-issue the report as a new revision.
        </p>
      )}
    </div>
  );
}

function ManagerActions({ report, onDone, onPrint }: { report: DayReport; onDone: (r: DayActionResult, done: string) => void; onPrint: () => void }) {
  const api = useApi();
  const confirm = useConfirm();
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const unconfirmed = report.tills.filter((t) => t.state !== "confirmed").length;
  const close = async () => {
    const yes = await confirm({
      title: `Close business day ${report.day}?`,
      detail:
        `The branch records the day's report at revision 1 with every sale it has now.` +
        (unconfirmed > 0 ? ` ${unconfirmed === 1 ? "1 till is" : `${formatCount(unconfirmed)} tills are`} not yet confirmed; their late sales will re-issue the report as a new revision, with the difference shown.` : " Late sales, if any, re-issue it as a new revision."),
      confirm: "Close day",
      cancel: "Keep open",
    });
    if (!yes) return;
    setBusy(true);
    try {
      const result = await api.call({ method: "closeDay", day: report.day, ...(note.trim() ? { note: note.trim() } : {}) });
      onDone(result, `Closed ${report.day}: revision 1 recorded.`);
      if (result.ok) setNote("");
    } catch (e) {
      onDone({ ok: false, error: `The app could not ask its core: ${e instanceof Error ? e.message : String(e)}` }, "");
    }
    setBusy(false);
  };
  return (
    <div class="row day-actions">
      {report.state === "open" && (
        <>
          <label class="day-note">
            Note for the close (optional)
            <input value={note} maxLength={500} onInput={(e) => setNote((e.target as HTMLInputElement).value)} placeholder="e.g. closed by Priya, drawer checked" />
          </label>
          <button class="primary" disabled={busy} onClick={() => void close()}>
            Close day {report.day}
          </button>
        </>
      )}
      <button class="secondary" onClick={onPrint}>
        Print Z-report
      </button>
    </div>
  );
}

/** The drawer table with a "Count drawer" per till and currency, and the form for one count. */
function DrawerCounts({ report, ownDeviceId, onDone }: { report: DayReport; ownDeviceId: string | null; onDone: (r: DayActionResult, done: string) => void }) {
  const api = useApi();
  const [open, setOpen] = useState<DrawerRow | null>(null);
  const [text, setText] = useState("");
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const counted = parseAmountMinor(text);
  const users = tillUsers(report);
  const save = async (event: Event) => {
    event.preventDefault();
    if (!open || !counted.ok) return;
    setBusy(true);
    try {
      const result = await api.call({ method: "countDrawer", day: report.day, device_id: open.device_id, currency: open.currency, counted_minor: counted.value, ...(note.trim() ? { note: note.trim() } : {}) });
      onDone(result, `Drawer of ${tillName(open.device_id, ownDeviceId, users.get(open.device_id))} counted.`);
      if (result.ok) {
        setOpen(null);
        setText("");
        setNote("");
      }
    } catch (e) {
      onDone({ ok: false, error: `The app could not ask its core: ${e instanceof Error ? e.message : String(e)}` }, "");
    }
    setBusy(false);
  };
  return (
    <>
      <DrawerTable
        report={report}
        ownDeviceId={ownDeviceId}
        users={users}
        action={(row) => (
          <button
            class="secondary"
            aria-label={`Count drawer of ${tillName(row.device_id, ownDeviceId, users.get(row.device_id))}, ${row.currency}`}
            onClick={() => {
              setOpen(row);
              setText("");
              setNote("");
            }}
          >
            Count drawer
          </button>
        )}
      />
      {open && (
        <form class="drawer-form" onSubmit={(e) => void save(e)} aria-label="Drawer count" data-testid="drawer-form">
          <h3>
            Count the drawer of {tillName(open.device_id, ownDeviceId, users.get(open.device_id))}, {open.currency}
          </h3>
          <div class="row">
            <AmountInput label={`Counted cash (${open.currency})`} text={text} onText={setText} error={counted.ok ? null : counted.error} />
            <label>
              Note (optional)
              <input value={note} maxLength={500} onInput={(e) => setNote((e.target as HTMLInputElement).value)} />
            </label>
            <button class="primary" type="submit" disabled={busy || !counted.ok}>
              Save count
            </button>
            <button class="secondary" type="button" onClick={() => setOpen(null)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </>
  );
}
