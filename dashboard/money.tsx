/**
 * Money: the POS ledger of the last 14 business days (the branch's days), per day and per till:
 * a chart of net per day per till (uPlot), the table of sales, corrections, voids and net per day,
 * till and currency, and the voids with their reason and who voided. A POS commit arriving live reads
 * the report again, throttled. Amounts are integer minor units, formatted by domain/amounts.ts.
 */
import { useEffect, useMemo } from "preact/hooks";
import { formatCount, formatMinor } from "../domain/amounts.js";
import type { MoneyReport } from "../protocol/dashboard.js";
import { Chart, type ChartSeries } from "./chart.js";
import { LIVE_REFRESH_MS } from "./conflicts.js";
import { type BranchFeed, throttle } from "./feed.js";
import { useFeed, useLoad } from "./hooks.js";
import { LoadState } from "./ui.js";
import { deviceLabel, deviceOnly, formatDay, tickWords } from "./words.js";

const DAY_MS = 86_400_000;

/** An amount and how many orders make it (`14,300.00 (2)`), or "—" for none. */
const amountCell = (minor: number, count: number) => (count === 0 ? "—" : `${formatMinor(minor)} (${formatCount(count)})`);

/** Every day from `from` to `to` (ISO dates, inclusive). */
export function daysOf(from: string, to: string): string[] {
  const days: string[] = [];
  for (let at = Date.parse(`${from}T00:00:00Z`); at <= Date.parse(`${to}T00:00:00Z`); at += DAY_MS) days.push(new Date(at).toISOString().slice(0, 10));
  return days;
}

/** The currency most rows are in: the chart shows one currency (the table shows them all). */
export function mainCurrency(report: MoneyReport): string | null {
  const counts = new Map<string, number>();
  for (const r of report.rows) counts.set(r.currency, (counts.get(r.currency) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0]?.[0] ?? null;
}

export function MoneyView({ feed }: { feed: BranchFeed }) {
  useFeed(feed);
  const { data, reload } = useLoad(() => feed.link.api.money({}), "money");
  useEffect(() => {
    const refresh = throttle(reload, LIVE_REFRESH_MS);
    const off = feed.onChanges((changes) => {
      if (changes.some((c) => c.entity_type === "pos_order")) refresh();
    });
    return () => {
      off();
      refresh.cancel();
    };
  }, [feed, reload]);
  if (data.kind !== "ready") return <section class="card"><LoadState data={data} what="the money report" /></section>;
  return <Report feed={feed} r={data.value} />;
}

function Report({ feed, r }: { feed: BranchFeed; r: MoneyReport }) {
  const currency = mainCurrency(r);
  const days = useMemo(() => daysOf(r.from, r.to), [r]);
  const chart = useMemo(() => {
    const tills = [...new Set(r.rows.filter((x) => x.currency === currency).map((x) => x.device_id))];
    const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
    const series: ChartSeries[] = tills.map((t) => ({
      label: deviceLabel(feed.devices.get(t), t),
      values: days.map((d) => (r.rows.find((x) => x.day === d && x.device_id === t && x.currency === currency)?.net_minor ?? 0) / 100),
    }));
    return { xs, series };
  }, [r, currency, feed.version]);
  const rows = [...r.rows].sort((a, b) => b.day.localeCompare(a.day) || a.device_id.localeCompare(b.device_id) || a.currency.localeCompare(b.currency));
  const totals = new Map<string, number>();
  for (const x of r.rows) totals.set(x.currency, (totals.get(x.currency) ?? 0) + x.net_minor);
  const span = `${formatDay(r.from)} to ${formatDay(r.to)}`;
  return (
    <div class="stack">
      <section class="card" aria-labelledby="money-title">
        <h2 id="money-title">Net per day and till</h2>
        <p class="muted" data-testid="money-totals">
          Business days in {r.time_zone}, {span}. Net:{" "}
          {totals.size === 0 ? "no sales" : [...totals.entries()].map(([c, v]) => formatMinor(v, c)).join(" · ")}
        </p>
        {chart.series.length > 0 && currency && (
          <Chart
            title={`Net per day per till (${currency})`}
            summary={`Net per day per till in ${currency}: ${chart.series.map((s) => `${s.label} ${formatMinor(Math.round(s.values.reduce<number>((a, v) => a + (v ?? 0), 0) * 100), currency)}`).join(", ")}`}
            xs={chart.xs}
            series={chart.series}
            timeZone="UTC"
            yLabel={currency}
            formatY={(v) => formatMinor(Math.round(v * 100))}
            formatX={(seconds) => tickWords(seconds * 1000, "UTC")}
            testId="money-chart"
          />
        )}
      </section>
      <section class="card" aria-labelledby="ledger-title">
        <h2 id="ledger-title">Ledger</h2>
        {rows.length === 0 ? (
          <p class="muted">No POS sales in these days.</p>
        ) : (
          <div class="scroll">
            <table class="data ledger" data-testid="ledger-table">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Till</th>
                  <th scope="col">Currency</th>
                  <th scope="col" class="num">Sales</th>
                  <th scope="col" class="num">Corrections</th>
                  <th scope="col" class="num">Voids</th>
                  <th scope="col" class="num">Net</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((x) => (
                  <tr key={`${x.day}|${x.device_id}|${x.currency}`}>
                    <th scope="row">{formatDay(x.day)}</th>
                    <td>{deviceLabel(feed.devices.get(x.device_id), x.device_id)}</td>
                    <td>{x.currency}</td>
                    <td class="num">{amountCell(x.sales_minor, x.sales_count)}</td>
                    <td class="num">{amountCell(x.corrections_minor, x.corrections_count)}</td>
                    <td class="num">{x.voids_count === 0 ? "—" : `−${amountCell(x.voids_minor, x.voids_count)}`}</td>
                    <td class="num strong">{formatMinor(x.net_minor)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section class="card" aria-labelledby="voids-title">
        <h2 id="voids-title">Voids</h2>
        {r.voids.length === 0 ? (
          <p class="muted">No sale was voided in these days.</p>
        ) : (
          <div class="scroll">
            <table class="data voids" data-testid="voids-table">
              <thead>
                <tr>
                  <th scope="col">Receipt</th>
                  <th scope="col">Day</th>
                  <th scope="col">Till</th>
                  <th scope="col" class="num">Amount</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Voided by</th>
                </tr>
              </thead>
              <tbody>
                {r.voids.map((v) => (
                  <tr key={v.entity_id}>
                    <th scope="row">
                      #{v.official_receipt_no}
                      {v.kind === "correction" ? " (correction)" : ""}
                    </th>
                    <td>{formatDay(v.business_day)}</td>
                    <td>{deviceLabel(feed.devices.get(v.device_id), v.device_id)}</td>
                    <td class="num">{formatMinor(v.total_minor, v.currency)}</td>
                    <td>{v.reason}</td>
                    <td>
                      {v.voided_by_user} on {deviceOnly(feed.devices.get(v.voided_by_device), v.voided_by_device)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {r.more_voids && <p class="muted">More voids in these days than shown here (the newest are listed).</p>}
      </section>
    </div>
  );
}
