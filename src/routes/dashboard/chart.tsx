/**
 * The dashboard's chart, hits (bars) and confirmations (line) per day, as inline SVG drawn on the
 * server: no script, no image request, readable without CSS. Every day also carries a `<title>`
 * (the browser's tooltip) and `data-*` attributes with its numbers.
 *
 * It is drawn in two sizes, and the stylesheet shows the one that fits: an SVG scales its text with
 * it, so the wide chart squeezed onto a phone would have 5 px labels. The narrow one is drawn
 * about as wide as a phone shows it, with fewer date labels.
 */
import type { FC } from "hono/jsx";

export interface ChartDay {
  day: string;
  hits: number;
  /** Hits that are not a visitor's repeat within the dedupe window. */
  uniqueHits: number;
  confirmed: number;
}

/** The chart's drawing sizes, in SVG units; `labels`: how many dates the x axis names at most. */
const LAYOUTS = {
  wide: { width: 760, height: 240, margin: { top: 12, right: 12, bottom: 28, left: 44 }, labels: 6 },
  narrow: { width: 360, height: 220, margin: { top: 12, right: 22, bottom: 30, left: 40 }, labels: 4 },
} as const;
export type ChartSize = keyof typeof LAYOUTS;

/** The smallest of 1, 2, 3, 4, 5, 6, 8, 10, 20, 30… that is at least `value`: the y axis's top. */
export function niceCeiling(value: number): number {
  if (value <= 1) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 3, 4, 5, 6, 8, 10]) {
    if (step * magnitude >= value) return step * magnitude;
  }
  return 10 * magnitude;
}

/**
 * The y axis's ticks for counts: whole numbers only (a count of 1.5 hits means nothing). Every
 * number up to 5, else 0, the middle and the top (which niceCeiling makes even from 6 on).
 */
export function yTicks(top: number): number[] {
  if (top <= 5) return Array.from({ length: top + 1 }, (_, tick) => tick);
  const middle = Math.round(top / 2);
  return [0, middle, top];
}

/**
 * Which days the x axis names: at most `labels`, evenly spaced and counted back from the last day,
 * so the newest day (where today's bar is) is always named.
 */
export function xLabelIndexes(count: number, labels: number = LAYOUTS.wide.labels): number[] {
  const every = Math.max(1, Math.ceil(count / labels));
  const indexes: number[] = [];
  for (let index = count - 1; index >= 0; index -= every) indexes.unshift(index);
  return indexes;
}

/** Short label of a day: `Jun 3`. */
function dayLabel(day: string): string {
  const date = new Date(`${day}T00:00:00Z`);
  return date.toLocaleDateString("en-US", { month: "short", day: "numeric", timeZone: "UTC" });
}

export const DailyChart: FC<{ days: ChartDay[]; size: ChartSize }> = ({ days, size }) => {
  const { width: WIDTH, height: HEIGHT, margin: MARGIN, labels } = LAYOUTS[size];
  const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
  const PLOT_HEIGHT = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = niceCeiling(Math.max(1, ...days.map((d) => Math.max(d.hits, d.confirmed))));
  const slot = PLOT_WIDTH / Math.max(days.length, 1);
  const barWidth = Math.max(1, slot * 0.7);
  const x = (index: number) => MARGIN.left + index * slot;
  const y = (value: number) => MARGIN.top + PLOT_HEIGHT - (value / top) * PLOT_HEIGHT;
  const labelled = new Set(xLabelIndexes(days.length, labels));
  const line = days.map((d, i) => `${(x(i) + slot / 2).toFixed(1)},${y(d.confirmed).toFixed(1)}`).join(" ");
  const totalHits = days.reduce((sum, d) => sum + d.hits, 0);
  const totalConfirmed = days.reduce((sum, d) => sum + d.confirmed, 0);
  const first = days[0]?.day ?? "";
  const last = days.at(-1)?.day ?? "";

  return (
    <svg
      class={`chart ${size}`}
      data-chart="daily"
      data-size={size}
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-labelledby={`chart-title-${size} chart-desc-${size}`}
      preserveAspectRatio="xMidYMid meet"
    >
      <title id={`chart-title-${size}`}>Hits and confirmations per day</title>
      <desc id={`chart-desc-${size}`}>
        {`From ${first} to ${last}: ${totalHits} hits and ${totalConfirmed} confirmations in all.`}
      </desc>
      <g class="axis">
        {yTicks(top).map((tick) => (
          <g>
            <line x1={MARGIN.left} x2={WIDTH - MARGIN.right} y1={y(tick)} y2={y(tick)} class="grid" />
            <text class="y-tick" x={MARGIN.left - 6} y={y(tick) + 4} text-anchor="end">
              {String(tick)}
            </text>
          </g>
        ))}
        {days.map((d, i) =>
          labelled.has(i) ? (
            <text class="x-label" data-day={d.day} x={x(i) + slot / 2} y={HEIGHT - 8} text-anchor="middle">
              {dayLabel(d.day)}
            </text>
          ) : null,
        )}
      </g>
      {days.map((d, i) => (
        <g class="day" data-day={d.day} data-hits={d.hits} data-confirmed={d.confirmed}>
          <title>{`${d.day}: ${d.hits} ${d.hits === 1 ? "hit" : "hits"}, ${d.confirmed} confirmed`}</title>
          {/* A transparent full-height target, so the tooltip works on empty days too. */}
          <rect class="hover" x={x(i)} y={MARGIN.top} width={slot} height={PLOT_HEIGHT} />
          <rect
            class="bar"
            x={x(i) + (slot - barWidth) / 2}
            y={y(d.hits)}
            width={barWidth}
            height={y(0) - y(d.hits)}
          />
        </g>
      ))}
      <polyline class="confirmed" points={line} />
      {days.map((d, i) =>
        d.confirmed > 0 ? (
          <circle class="confirmed-dot" cx={x(i) + slot / 2} cy={y(d.confirmed)} r={3} />
        ) : null,
      )}
    </svg>
  );
};
