/**
 * Sync activity (issue 14): every change this till queued, newest written first, with what it is,
 * its state in words and when it was written, sent and decided — like an upload-queue inspector, but
 * with the server's verdicts. Filter by state and by kind of record; a page at a time with the total
 * ("1–50 of 2,314"). A rejected change links to the conflict inbox, where it is dealt with. Ids,
 * positions and reject codes only under "Details for support". The store answers each page
 * (queue-read.ts); the screen keeps only the page it shows.
 */
import { useEffect, useId, useState } from "preact/hooks";
import type { QueuePageView, QueuedChangeView } from "../app/api.js";
import { formatCount } from "../../domain/amounts.js";
import { changeWords, KIND_CHOICES, STATE_CHOICES, stateWords, timelineWords } from "./activity-words.js";
import { useApi, useRevision, useStatus } from "./hooks.js";

/** Rows per page. */
export const ACTIVITY_PAGE_SIZE = 50;

type StateFilter = QueuedChangeView["status"] | "all";
type KindFilter = QueuedChangeView["entity_type"] | "all";
interface Query {
  state: StateFilter;
  kind: KindFilter;
  offset: number;
}

export function SyncActivity({ onOpenConflicts }: { onOpenConflicts: () => void }) {
  const api = useApi();
  const revision = useRevision();
  const clock = useStatus()?.clock ?? null;
  const stateId = useId();
  const kindId = useId();
  const [query, setQuery] = useState<Query>({ state: "all", kind: "all", offset: 0 });
  // The page shown with the query it answers: the range always describes the rows on screen.
  const [shown, setShown] = useState<{ page: QueuePageView; query: Query } | null>(null);

  useEffect(() => {
    let latest = true;
    void api
      .call({
        method: "queue",
        ...(query.state === "all" ? {} : { status: query.state }),
        ...(query.kind === "all" ? {} : { entity_type: query.kind }),
        limit: ACTIVITY_PAGE_SIZE,
        offset: query.offset,
      })
      .then((page) => latest && setShown({ page, query }));
    return () => {
      latest = false;
    };
  }, [api, revision, query]);

  const total = shown?.page.total ?? 0;
  const range =
    shown === null
      ? "Loading…"
      : total === 0
        ? "No changes match"
        : `${formatCount(shown.query.offset + 1)}–${formatCount(shown.query.offset + shown.page.events.length)} of ${formatCount(total)}`;

  return (
    <section class="card" aria-labelledby="activity-title">
      <h2 id="activity-title">Sync activity</h2>
      <p class="muted">Every change made on this till, newest first, and what the server said about it.</p>
      <div class="history-controls">
        {/* Labels by `for`, not wrapping: a wrapping label's name would include the chosen option. */}
        <div class="field">
          <label for={stateId}>State</label>
          <select id={stateId} value={query.state} onChange={(e) => setQuery({ ...query, state: (e.target as HTMLSelectElement).value as StateFilter, offset: 0 })}>
            <option value="all">All states</option>
            {STATE_CHOICES.map(([value, words]) => (
              <option key={value} value={value}>{words}</option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for={kindId}>Record</label>
          <select id={kindId} value={query.kind} onChange={(e) => setQuery({ ...query, kind: (e.target as HTMLSelectElement).value as KindFilter, offset: 0 })}>
            <option value="all">All records</option>
            {KIND_CHOICES.map(([value, words]) => (
              <option key={value} value={value}>{words}</option>
            ))}
          </select>
        </div>
      </div>
      <table aria-label="Sync activity" class="history">
        <thead>
          <tr>
            <th scope="col">Change</th>
            <th scope="col">State</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {shown?.page.events.map((c) => (
            <tr key={c.event_id} data-testid="activity-row">
              <td>
                {changeWords(c)}
                <details class="support">
                  <summary>Details for support</summary>
                  <code>{supportLine(c)}</code>
                </details>
              </td>
              <td>
                <span class={`state ${c.status}`}>{stateWords(c)}</span>
                {c.status === "rejected" && (
                  <>
                    {" "}
                    <button class="link" onClick={onOpenConflicts}>
                      Review in the conflict inbox
                    </button>
                  </>
                )}
              </td>
              <td>{clock ? timelineWords(c, clock.time_zone, clock.today) : ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div class="pager">
        <p aria-live="polite" data-testid="activity-range">
          {range}
        </p>
        <button class="secondary" disabled={query.offset === 0} onClick={() => setQuery({ ...query, offset: Math.max(0, query.offset - ACTIVITY_PAGE_SIZE) })}>
          Previous
        </button>
        <button class="secondary" disabled={query.offset + ACTIVITY_PAGE_SIZE >= total} onClick={() => setQuery({ ...query, offset: query.offset + ACTIVITY_PAGE_SIZE })}>
          Next
        </button>
      </div>
    </section>
  );
}

/** The internal names of one change, for whoever helps this till over the phone. */
function supportLine(c: QueuedChangeView): string {
  const v = c.verdict;
  const verdict = v === null ? "" : v.kind === "confirmed" ? ` · seq ${v.seq} v${v.version}` : ` · code ${v.code}`;
  return `#${c.position} ${c.status} ${c.operation} ${c.entity_type} · change ${c.event_id} · record ${c.entity_id}${verdict}`;
}
