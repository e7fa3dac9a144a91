/**
 * Entity history: every version of one record (who, when, which fields) and every rejected attempt
 * on it, one lane per device. The lanes are an HTML table (a column per device, a row per moment,
 * newest first), so every mark is text a screen reader reads in order with its lane's name. Commits
 * and rejections naming the record arrive live and the page is read again, throttled.
 */
import { useEffect, useState } from "preact/hooks";
import type { EntityHistory } from "../protocol/dashboard.js";
import { type BranchFeed, throttle } from "./feed.js";
import { useFeed, useLoad } from "./hooks.js";
import { LIVE_REFRESH_MS } from "./conflicts.js";
import { LoadState } from "./ui.js";
import { codeWords, deviceLabel, entityWords, formatTime, shortId } from "./words.js";

export type Mark =
  | { kind: "version"; at: string; device_id: string; key: string; title: string; detail: string }
  | { kind: "rejection"; at: string; device_id: string; key: string; title: string; detail: string; event_id: string };

/** Versions and rejections as marks, newest first; ties (one push) keep versions before rejections. */
export function historyMarks(h: EntityHistory): Mark[] {
  const marks: Mark[] = [
    ...h.versions.map((v): Mark => ({
      kind: "version",
      at: v.committed_at,
      device_id: v.device_id,
      key: `v${v.seq}`,
      title: `Version ${v.version} · ${v.operation}`,
      detail: `by ${v.user_id}${v.changed_fields.length > 0 ? ` · ${v.changed_fields.join(", ")}` : ""} · seq ${v.seq}`,
    })),
    ...h.rejections.map((r): Mark => ({
      kind: "rejection",
      at: r.decided_at,
      device_id: r.device_id,
      key: `r${r.id}`,
      title: `Rejected · ${codeWords(r.code)}`,
      detail: `${r.operation ?? "change"}${r.user_id ? ` by ${r.user_id}` : ""}`,
      event_id: r.event_id,
    })),
  ];
  return marks.sort((a, b) => b.at.localeCompare(a.at) || (a.kind === b.kind ? 0 : a.kind === "version" ? -1 : 1));
}

/**
 * Words for versions of a record no longer listed (protocol v9, docs/protocol/compaction.md): on the
 * oldest page, when its oldest version is not version 1, the versions before it were compacted out of
 * the branch's log. Null when the whole history is listed. Said, never silently left out.
 */
export function compactedNote(h: EntityHistory, compactedThrough: number): string | null {
  if (h.next_before_seq !== null || h.versions.length === 0) return null;
  const oldest = Math.min(...h.versions.map((v) => v.version));
  if (oldest <= 1) return null;
  const through = compactedThrough > 0 ? ` (its log keeps what was committed after seq ${compactedThrough})` : "";
  return `Versions 1–${oldest - 1} are not listed: the branch compacted its older history${through}. The record itself is whole; only who changed it before version ${oldest}, and when, is gone.`;
}

export function HistoryView({ feed, entityId, onEntity, onOpenRejection }: { feed: BranchFeed; entityId: string | null; onEntity: (id: string) => void; onOpenRejection: (eventId: string) => void }) {
  const [typed, setTyped] = useState(entityId ?? "");
  useEffect(() => setTyped(entityId ?? ""), [entityId]);
  return (
    <div class="stack">
      <section class="card" aria-labelledby="history-title">
        <h2 id="history-title">Record history</h2>
        <form
          class="row"
          onSubmit={(e) => {
            e.preventDefault();
            if (typed.trim()) onEntity(typed.trim());
          }}
        >
          <label class="grow">
            Record id (a project, invoice or POS order)
            <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} spellcheck={false} placeholder="0193…" />
          </label>
          <button type="submit" class="primary">
            Show history
          </button>
        </form>
        {!entityId && <p class="muted">Open a record from a rejection (Conflicts), or paste its id.</p>}
      </section>
      {entityId && <Lanes key={entityId} feed={feed} entityId={entityId} onOpenRejection={onOpenRejection} />}
    </div>
  );
}

function Lanes({ feed, entityId, onOpenRejection }: { feed: BranchFeed; entityId: string; onOpenRejection: (eventId: string) => void }) {
  useFeed(feed);
  const [pages, setPages] = useState<Array<number | undefined>>([undefined]);
  const before = pages[pages.length - 1];
  const { data, reload } = useLoad(() => feed.link.api.history(entityId, before === undefined ? {} : { before_seq: before }), `${entityId}|${before}`);
  useEffect(() => {
    const refresh = throttle(reload, LIVE_REFRESH_MS);
    const offChanges = feed.onChanges((changes) => {
      if (changes.some((c) => c.entity_id === entityId)) refresh();
    });
    const offRejections = feed.onRejections((rs) => {
      if (rs.length === 0 || rs.some((r) => r.entity_id === entityId)) refresh();
    });
    return () => {
      offChanges();
      offRejections();
      refresh.cancel();
    };
  }, [feed, entityId, reload]);
  const tz = feed.timeZone;
  if (data.kind !== "ready") return <section class="card"><LoadState data={data} what="the record's history" /></section>;
  const h = data.value;
  const marks = historyMarks(h);
  const lanes = [...new Set(marks.map((m) => m.device_id))];
  const current = h.current;
  const compacted = compactedNote(h, feed.welcome?.compacted_through ?? 0);
  return (
    <section class="card" aria-labelledby="lanes-title" data-testid="history">
      <h2 id="lanes-title">
        {entityWords(h.entity_type)} <span class="mono">{shortId(h.entity_id)}</span>
      </h2>
      <p class="muted">
        {current ? `Now at version ${current.version}${current.deleted ? ", deleted" : current.entity_type === "pos_order" && current.void ? ", voided" : ""}.` : "Never committed: only rejected attempts."}{" "}
        {h.versions.length} {h.versions.length === 1 ? "version" : "versions"} and {h.rejections.length} rejected {h.rejections.length === 1 ? "attempt" : "attempts"} on this page, one lane per device.
      </p>
      {compacted && (
        <p class="notice warn" data-testid="history-compacted">
          {compacted}
        </p>
      )}
      <div class="scroll">
        <table class="lanes" data-testid="history-lanes">
          <caption class="visually-hidden">Versions and rejected attempts of the record, newest first, in one column per device</caption>
          <thead>
            <tr>
              <th scope="col">When</th>
              {lanes.map((id) => (
                <th scope="col" key={id}>
                  {deviceLabel(feed.devices.get(id), id)}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {marks.map((m) => (
              <tr key={m.key}>
                <th scope="row" class="nowrap when">
                  <time dateTime={m.at}>{formatTime(m.at, tz)}</time>
                </th>
                {lanes.map((id) => (
                  <td key={id} class="lane">
                    {id === m.device_id && (
                      <div class={`mark ${m.kind}`}>
                        {m.kind === "rejection" ? (
                          <button type="button" class="link" onClick={() => onOpenRejection(m.event_id)}>
                            {m.title}
                          </button>
                        ) : (
                          <strong>{m.title}</strong>
                        )}
                        <span class="mark-detail">{m.detail}</span>
                      </div>
                    )}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="History pages">
        <p>{pages.length > 1 ? `Page ${pages.length}` : "Newest"}</p>
        <button type="button" class="secondary" disabled={pages.length === 1} onClick={() => setPages(pages.slice(0, -1))}>
          ← Newer
        </button>
        <button type="button" class="secondary" disabled={h.next_before_seq === null} onClick={() => setPages([...pages, h.next_before_seq ?? undefined])}>
          Older →
        </button>
      </nav>
    </section>
  );
}
