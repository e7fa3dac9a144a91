/**
 * Conflicts: the branch's rejections. A timeline of rejections by code and by device (uPlot, the
 * last 24 hours of the server's clock), a filter bar (device, code, record type), a table newest
 * first, a page at a time ("1–50 of 1,234"), and a drill-down per rejection (rejection.tsx). New
 * rejections arrive live (`observed`): the timeline and the page are read again, throttled.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { formatCount } from "../domain/amounts.js";
import { RejectCode } from "../domain/reject-codes.js";
import type { RejectionTimeline } from "../protocol/dashboard.js";
import { Chart, type ChartSeries } from "./chart.js";
import { type BranchFeed, throttle } from "./feed.js";
import { useFeed, useLoad } from "./hooks.js";
import type { RejectionQuery } from "./link.js";
import { RejectionDetailPanel } from "./rejection.js";
import { LoadState, Pager, SelectField } from "./ui.js";
import { codeWords, deviceLabel, ENTITY_WORDS, entityWords, formatTime, pageRange, shortId, tickWords } from "./words.js";

const PAGE = 50;
/** Live news refetches at most this often. */
export const LIVE_REFRESH_MS = 500;

export interface ConflictFilters {
  device: string;
  code: string;
  entity_type: string;
}
const NO_FILTERS: ConflictFilters = { device: "", code: "", entity_type: "" };

export function ConflictsView({ feed, selected, onSelect, onOpenHistory }: { feed: BranchFeed; selected: string | null; onSelect: (eventId: string | null) => void; onOpenHistory: (entityId: string) => void }) {
  useFeed(feed);
  const [filters, setFilters] = useState<ConflictFilters>(NO_FILTERS);
  /** The `before` of each page shown so far: [undefined] is the newest page. */
  const [pages, setPages] = useState<Array<number | undefined>>([undefined]);
  const before = pages[pages.length - 1];
  const query: RejectionQuery = { limit: PAGE, ...(before === undefined ? {} : { before }), ...Object.fromEntries(Object.entries(filters).filter(([, v]) => v !== "")) };
  const page = useLoad(() => feed.link.api.rejections(query), JSON.stringify(query));
  const timeline = useLoad(() => feed.link.api.timeline({}), "timeline");
  useEffect(() => {
    const refresh = throttle(() => {
      page.reload();
      timeline.reload();
    }, LIVE_REFRESH_MS);
    const off = feed.onRejections(refresh);
    return () => {
      off();
      refresh.cancel();
    };
  }, [feed, page.reload, timeline.reload]);
  const setFilter = (k: keyof ConflictFilters, v: string) => {
    setFilters({ ...filters, [k]: v });
    setPages([undefined]);
  };
  const tz = feed.timeZone;
  const devices = feed.deviceList();
  return (
    <div class="stack">
      <section class="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">Rejections over time</h2>
        <LoadState data={timeline.data} what="the timeline" />
        {timeline.data.kind === "ready" && <Timelines t={timeline.data.value} feed={feed} />}
      </section>
      <section class="card" aria-labelledby="rejections-title">
        <h2 id="rejections-title">Rejections</h2>
        <form class="row filters" aria-label="Filter rejections" onSubmit={(e) => e.preventDefault()}>
          <SelectField id="filter-device" label="Device" value={filters.device} onChange={(v) => setFilter("device", v)}>
            <option value="">Every device</option>
            {devices.map((d) => (
              <option key={d.device_id} value={d.device_id}>
                {deviceLabel(d, d.device_id)}
              </option>
            ))}
          </SelectField>
          <SelectField id="filter-code" label="Code" value={filters.code} onChange={(v) => setFilter("code", v)}>
            <option value="">Every code</option>
            {RejectCode.options.map((c) => (
              <option key={c} value={c}>
                {codeWords(c)}
              </option>
            ))}
          </SelectField>
          <SelectField id="filter-entity-type" label="Record type" value={filters.entity_type} onChange={(v) => setFilter("entity_type", v)}>
            <option value="">Every type</option>
            {Object.entries(ENTITY_WORDS).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </SelectField>
          {(filters.device || filters.code || filters.entity_type) && (
            <button type="button" class="secondary" onClick={() => { setFilters(NO_FILTERS); setPages([undefined]); }}>
              Clear filters
            </button>
          )}
        </form>
        <LoadState data={page.data} what="rejections" />
        {page.data.kind === "ready" && (
          <>
            <div class="scroll">
              <table class="data rejections" data-testid="rejections-table">
                <caption class="visually-hidden">Rejections, newest first; choose one to see it in full</caption>
                <thead>
                  <tr>
                    <th scope="col">Decided</th>
                    <th scope="col">Code</th>
                    <th scope="col">Record</th>
                    <th scope="col">Device · user</th>
                    <th scope="col">What the server said</th>
                  </tr>
                </thead>
                <tbody>
                  {page.data.value.rejections.map((r) => (
                    <tr key={r.id} class={r.event_id === selected ? "selected" : undefined} aria-current={r.event_id === selected ? "true" : undefined}>
                      <td class="nowrap">
                        <button type="button" class="link" onClick={() => onSelect(r.event_id)} aria-label={`Open rejection of ${formatTime(r.decided_at, tz)}: ${codeWords(r.code)}`}>
                          <time dateTime={r.decided_at}>{formatTime(r.decided_at, tz)}</time>
                        </button>
                      </td>
                      <td>
                        <span class="code">{codeWords(r.code)}</span>
                      </td>
                      <td>
                        {entityWords(r.entity_type)} {r.operation ?? ""} <span class="mono">{shortId(r.entity_id)}</span>
                      </td>
                      <td class="nowrap">
                        {deviceLabel(feed.devices.get(r.device_id), r.device_id)}
                        {r.user_id && !feed.devices.get(r.device_id) ? ` · ${r.user_id}` : ""}
                      </td>
                      <td class="message">{r.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            {page.data.value.rejections.length === 0 && <p class="muted">{filters === NO_FILTERS ? "No rejections: every change sent to this branch was committed." : "No rejection matches these filters."}</p>}
            <Pager
              label="Rejection pages"
              range={pageRange((pages.length - 1) * PAGE, page.data.value.rejections.length, page.data.value.total)}
              newer={pages.length > 1 ? () => setPages(pages.slice(0, -1)) : null}
              older={page.data.value.next_before !== null ? () => setPages([...pages, page.data.kind === "ready" ? (page.data.value.next_before ?? undefined) : undefined]) : null}
            />
          </>
        )}
      </section>
      {selected && <RejectionDetailPanel key={selected} feed={feed} eventId={selected} onSelect={onSelect} onOpenHistory={onOpenHistory} />}
    </div>
  );
}

/**
 * Every bucket of the range (empty ones too, so a quiet hour shows as zero) and one series per key,
 * the largest `maxSeries - 1` by count and the rest as "other". Buckets start at `from` and follow
 * each other every `bucket_s`; a row is counted in the bucket its start falls in.
 */
export function bucketSeries<K extends string>(t: RejectionTimeline, rows: ReadonlyArray<{ bucket_start: string; count: number }>, keyOf: (row: never) => K, maxSeries = 8): { xs: number[]; series: Array<{ key: K | "other"; values: number[] }> } {
  const step = t.bucket_s * 1000;
  const from = Date.parse(t.from);
  const buckets = Math.max(1, Math.ceil((Date.parse(t.to) - from) / step));
  const slot = (start: string) => Math.min(buckets - 1, Math.max(0, Math.floor((Date.parse(start) - from) / step)));
  const totals = new Map<K, number>();
  for (const r of rows) totals.set(keyOf(r as never), (totals.get(keyOf(r as never)) ?? 0) + r.count);
  const ranked = [...totals.entries()].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  const shown = new Set(ranked.slice(0, ranked.length > maxSeries ? maxSeries - 1 : maxSeries));
  const series = new Map<K | "other", number[]>();
  for (const k of ranked) {
    const key = shown.has(k) ? k : "other";
    if (!series.has(key)) series.set(key, new Array<number>(buckets).fill(0));
  }
  for (const r of rows) {
    const k = keyOf(r as never);
    series.get(shown.has(k) ? k : "other")![slot(r.bucket_start)]! += r.count;
  }
  const xs = Array.from({ length: buckets }, (_, i) => (from + i * step) / 1000);
  return { xs, series: [...series.entries()].map(([key, values]) => ({ key, values })) };
}

function Timelines({ t, feed }: { t: RejectionTimeline; feed: BranchFeed }) {
  const byCode = useMemo(() => bucketSeries(t, t.by_code, (r: { code: string }) => r.code), [t]);
  const byDevice = useMemo(() => bucketSeries(t, t.by_device, (r: { device_id: string }) => r.device_id), [t]);
  const total = t.by_code.reduce((s, r) => s + r.count, 0);
  const marks = (values: number[]) => values.map((v) => (v === 0 ? null : v));
  const codeSeries: ChartSeries[] = useMemo(() => byCode.series.map((s) => ({ label: s.key === "other" ? "Other codes" : codeWords(s.key), values: marks(s.values) })), [byCode]);
  const deviceSeries: ChartSeries[] = useMemo(() => byDevice.series.map((s) => ({ label: s.key === "other" ? "Other devices" : deviceLabel(feed.devices.get(s.key), s.key), values: marks(s.values) })), [byDevice, feed.version]);
  const tick = (seconds: number) => tickWords(seconds * 1000, feed.timeZone);
  const span = `${formatTime(t.from, feed.timeZone)} to ${formatTime(t.to, feed.timeZone)}`;
  if (total === 0) return <p class="muted">No rejections from {span}.</p>;
  const describe = (series: ChartSeries[]) => series.map((s) => `${s.label} ${formatCount(s.values.reduce<number>((a, v) => a + (v ?? 0), 0))}`).join(", ");
  const minutes = Math.round(t.bucket_s / 60);
  return (
    <div class="charts">
      <Chart
        title={`By code (${formatCount(total)} from ${span}, per ${minutes >= 1 ? `${minutes} min` : `${t.bucket_s} s`})`}
        summary={`Rejections by code: ${describe(codeSeries)}`}
        xs={byCode.xs}
        series={codeSeries}
        timeZone={feed.timeZone}
        yLabel="Rejections"
        formatX={tick}
        testId="timeline-by-code"
      />
      <Chart title="By device" summary={`Rejections by device: ${describe(deviceSeries)}`} xs={byDevice.xs} series={deviceSeries} timeZone={feed.timeZone} yLabel="Rejections" formatX={tick} testId="timeline-by-device" />
    </div>
  );
}
