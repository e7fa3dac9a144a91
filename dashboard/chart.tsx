/**
 * A uPlot chart in a Preact component. The canvas is an image to assistive technology (`role="img"`
 * with a one-sentence summary); every chart sits beside a table or list that holds the same numbers
 * in text. Times on the x axis are shown in `timeZone` (uPlot's tzDate), never the browser's zone.
 * The chart follows its container's width (ResizeObserver).
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

/** Distinct colours that keep 3:1 contrast on white, one per series in order. */
export const PALETTE = ["#2457c5", "#b3261e", "#1f7a4d", "#a15c00", "#6b3fa0", "#00758f", "#8a4b08", "#c2185b", "#455a64", "#5d7c00"];

export interface ChartSeries {
  label: string;
  values: ReadonlyArray<number | null>;
}

export function Chart({ title, summary, xs, series, timeZone, height = 220, yLabel, formatY, formatX, testId }: {
  title: string;
  summary: string;
  /** x values, seconds since epoch, ascending. */
  xs: readonly number[];
  series: readonly ChartSeries[];
  timeZone: string;
  height?: number;
  yLabel: string;
  formatY?: (v: number) => string;
  /** An x tick (seconds) for people; default: uPlot's own, in `timeZone`. */
  formatX?: (seconds: number) => string;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The series' names decide the chart's shape; a change of names (a new code, a new till) rebuilds it.
  const shape = `${timeZone}|${series.map((s) => s.label).join("\u0000")}`;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), timeZone),
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
      axes: [
        formatX ? { values: (_u, splits) => splits.map((v) => formatX(v)) } : {},
        { label: yLabel, size: 70, values: formatY ? (_u, splits) => splits.map((v) => formatY(v)) : undefined },
      ],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          // Empty buckets are null: a mark only where something happened, no line across the gaps.
          spanGaps: false,
          points: { show: true, size: 8 },
          value: formatY ? (_u: uPlot, v: number | null) => (v == null ? "—" : formatY(v)) : undefined,
        })),
      ],
    };
    const u = new uPlot(opts, [xs as number[], ...series.map((s) => s.values as Array<number | null>)], el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [shape, height]);
  useEffect(() => {
    plot.current?.setData([xs as number[], ...series.map((s) => s.values as Array<number | null>)]);
  }, [xs, series]);
  return (
    <figure class="chart" data-testid={testId}>
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={summary} />
    </figure>
  );
}
