// Usage over 24 h, 7 d or 30 d: the totals as text for everyone, and a chart of the buckets (aria-hidden).
import { lazy, Suspense } from "preact/compat";
import { useMemo, useState } from "preact/hooks";

import { api } from "../api/client";
import { must } from "../api/errors";
import { t } from "../i18n";
import { count } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { ErrorNotice, Loading } from "../ui/states";

const UsageChart = lazy(() => import("./UsageChart"));
const SERIES = ["sends", "delivered", "read", "failed", "inbound"] as const;
const RANGES = {
  "24h": { hours: 24, granularity: "hour" },
  "7d": { hours: 24 * 7, granularity: "hour" },
  "30d": { hours: 24 * 30, granularity: "day" },
} as const;
type RangeName = keyof typeof RANGES;

export function Usage() {
  const [range, setRange] = useState<RangeName>("24h");
  const report = useResource(() => {
    const { hours, granularity } = RANGES[range];
    const to = new Date();
    const from = new Date(to.getTime() - hours * 3600 * 1000);
    return must(api().GET("/usage", { params: { query: { from: from.toISOString(), to: to.toISOString(), granularity } } }));
  }, [range]);
  const labels = useMemo(
    () => ({ sends: t("usage.sends"), delivered: t("usage.delivered"), read: t("usage.read"), failed: t("usage.failed"), inbound: t("usage.inbound") }),
    [t("usage.sends")],
  );
  return (
    <section>
      <PageHeader title={t("usage.title")} />
      <div class="segmented" role="group" aria-label={t("usage.range")}>
        {(Object.keys(RANGES) as RangeName[]).map((name) => (
          <button key={name} type="button" class="button secondary" aria-pressed={range === name} onClick={() => setRange(name)}>
            {t(`usage.range${name}` as "usage.range24h")}
          </button>
        ))}
      </div>
      {report.status === "error" ? <ErrorNotice error={report.error} onRetry={report.reload} /> : null}
      {!report.data ? (
        <Loading />
      ) : (
        <>
          <section class="card" aria-labelledby="usage-totals">
            <h2 id="usage-totals">{t("usage.totals")}</h2>
            <dl class="totals" data-testid="usage-totals">
              {SERIES.map((name) => (
                <div key={name}>
                  <dt>{labels[name]}</dt>
                  <dd data-series={name}>{count(report.data?.totals[name] ?? 0)}</dd>
                </div>
              ))}
            </dl>
          </section>
          <section class="card" aria-labelledby="usage-chart">
            <h2 id="usage-chart">{t("usage.chart")}</h2>
            <Suspense fallback={<Loading />}>
              <UsageChart report={report.data} labels={labels} />
            </Suspense>
          </section>
        </>
      )}
    </section>
  );
}
