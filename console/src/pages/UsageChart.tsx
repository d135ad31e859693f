// The usage chart (uPlot, bundled and loaded with this page only): sends, delivered, read, failed, inbound.
import "uplot/dist/uPlot.min.css";

import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

import type { UsageReport } from "../sdk";

export const SERIES = ["sends", "delivered", "read", "failed", "inbound"] as const;
const COLOURS: Record<(typeof SERIES)[number], string> = {
  sends: "#2251cc",
  delivered: "#1b7f4b",
  read: "#6a3fb5",
  failed: "#b42318",
  inbound: "#b54708",
};

export default function UsageChart({ report, labels }: { report: UsageReport; labels: Record<(typeof SERIES)[number], string> }) {
  const holder = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = holder.current;
    if (!element) return undefined;
    const times = report.data.map((bucket) => Date.parse(bucket.start) / 1000);
    const data: uPlot.AlignedData = [times, ...SERIES.map((name) => report.data.map((bucket) => bucket[name]))];
    const chart = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 280,
        series: [{}, ...SERIES.map((name) => ({ label: labels[name], stroke: COLOURS[name], width: 2 }))],
        axes: [{}, { size: 48 }],
        scales: { y: { range: (_chart, _min, max) => [0, Math.max(1, max)] } },
      },
      data,
      element,
    );
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(280, element.clientWidth), height: 280 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [report, labels]);
  return <div ref={holder} class="chart" aria-hidden="true" data-testid="usage-chart" />;
}
