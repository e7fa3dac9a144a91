/**
 * The POS screen's sales history (issue 14): newest rung up first, today's or every day's, a page at
 * a time, searchable by receipt number. The store answers each page from an index (posHistory); the
 * screen keeps only the page it shows. "Today" is the branch's business day from the core's clock
 * (AppStatus.clock.today, I13), never the browser's.
 */
import { useEffect, useState } from "preact/hooks";
import type { EntityView, PosHistoryPage } from "../app/api.js";
import { formatCount as count, formatMinor } from "../../domain/amounts.js";
import { useApi, useRevision, useStatus } from "./hooks.js";
import { ReceiptPrint } from "./print.js";

/** Rows per page: a till's screen shows them without scrolling the card. */
export const HISTORY_PAGE_SIZE = 20;

type Days = "today" | "all";

export function PosHistory(props: { onVoid: (id: string, receiptNo: string, totalMinor: number) => void }) {
  const api = useApi();
  const revision = useRevision();
  const today = useStatus()?.clock.today ?? null;
  const [days, setDays] = useState<Days>("today");
  const [search, setSearch] = useState("");
  const [offset, setOffset] = useState(0);
  // The receipt open in its print view (print.tsx), if any.
  const [printing, setPrinting] = useState<EntityView | null>(null);
  // The page shown, with the query it answers: until the next answer arrives the screen keeps
  // describing the rows it shows (never "21–40" over the rows of 41–60).
  const [shown, setShown] = useState<{ page: PosHistoryPage; offset: number; days: Days; search: string } | null>(null);

  useEffect(() => {
    if (days === "today" && !today) return;
    // Answers can arrive out of order while the cashier types: only the latest request's is shown.
    let latest = true;
    void api
      .call({ method: "posHistory", ...(days === "today" && today ? { day: today } : {}), ...(search.trim() ? { search: search.trim() } : {}), limit: HISTORY_PAGE_SIZE, offset })
      .then((p) => latest && setShown({ page: p, offset, days, search }));
    return () => {
      latest = false;
    };
  }, [api, revision, days, today, search, offset]);

  const choose = (next: Days) => {
    setDays(next);
    setOffset(0);
  };
  const page = shown?.page ?? null;
  const total = page?.total ?? 0;
  const range =
    shown === null
      ? "Loading…"
      : total === 0
        ? nothingFound(shown.days, shown.search)
        : `Showing ${count(shown.offset + 1)}–${count(shown.offset + shown.page.items.length)} of ${count(total)}`;

  return (
    <section class="card" aria-labelledby="history-title">
      <h2 id="history-title">Sales history</h2>
      <div class="history-controls">
        <div role="group" aria-label="Days shown" class="toggle">
          <button class="secondary" aria-pressed={days === "today"} onClick={() => choose("today")}>
            Today
          </button>
          <button class="secondary" aria-pressed={days === "all"} onClick={() => choose("all")}>
            All days
          </button>
        </div>
        <label>
          Search receipt no.
          <input
            type="search"
            value={search}
            placeholder="e.g. 000042 or #1234"
            onInput={(e) => {
              setSearch((e.target as HTMLInputElement).value);
              setOffset(0);
            }}
          />
        </label>
      </div>
      <table aria-label="Sales history" class="history">
        <thead>
          <tr>
            <th scope="col">Receipt</th>
            <th scope="col">Rung up</th>
            <th scope="col" class="num">Total</th>
            <th scope="col">
              <span class="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {page?.items.map((o) =>
            o.entity.entity_type === "pos_order" ? (
              <tr key={o.entity.entity_id} data-testid="history-row">
                <td>
                  {o.entity.data.local_receipt_no} {o.official_receipt_no ? `#${o.official_receipt_no}` : ""}{" "}
                  {o.status !== "synced" && <span class={`badge ${o.status}`}>{o.status}</span>}
                  {o.entity.void && <span class="badge rejected">void</span>}
                </td>
                <td>{rungAt(o.entity.data.rung_at, today)}</td>
                <td class="num">{formatMinor(o.entity.data.total_minor)}</td>
                <td>
                  <button class="secondary" aria-label={`Receipt ${o.entity.data.local_receipt_no}`} onClick={() => setPrinting(o)}>
                    Receipt
                  </button>{" "}
                  {!o.entity.void && o.entity.data.kind === "sale" && (
                    <button
                      class="secondary"
                      aria-label={`Void sale ${o.entity.data.local_receipt_no}`}
                      onClick={() => o.entity.entity_type === "pos_order" && props.onVoid(o.entity.entity_id, o.entity.data.local_receipt_no, o.entity.data.total_minor)}
                    >
                      Void
                    </button>
                  )}
                </td>
              </tr>
            ) : null,
          )}
        </tbody>
      </table>
      <div class="pager">
        <p aria-live="polite" data-testid="history-range">
          {range}
        </p>
        <button class="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - HISTORY_PAGE_SIZE))}>
          Previous
        </button>
        <button class="secondary" disabled={offset + HISTORY_PAGE_SIZE >= total} onClick={() => setOffset(offset + HISTORY_PAGE_SIZE)}>
          Next
        </button>
      </div>
      {printing && <ReceiptPrint order={printing} onClose={() => setPrinting(null)} />}
    </section>
  );
}

function nothingFound(days: Days, search: string): string {
  const where = days === "today" ? "today" : "on any day";
  return search.trim() ? `No receipt matching “${search.trim()}” ${where}` : `No sales ${where}`;
}

/**
 * When a sale was rung up, in the branch's wall-clock time (`rung_at` keeps the branch's offset):
 * the time alone for today's sales, the date and time for earlier ones.
 */
function rungAt(iso: string, today: string | null): string {
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 16);
  return day === today ? time : `${day} ${time}`;
}
