// Right after sign-in: the account's numbers and a first-run checklist read from real state.
import { api } from "../api/client";
import { listInstances } from "../api/data";
import { must } from "../api/errors";
import { t, type TextKey } from "../i18n";
import { useLiveEvents } from "../live/events";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { Empty, ErrorNotice, Loading } from "../ui/states";
import { StatusBadge } from "../ui/StatusBadge";

const DAY_MS = 24 * 3600 * 1000;

async function loadHome() {
  const since = new Date(Date.now() - 30 * DAY_MS).toISOString();
  const [account, instances, keys, webhooks, usage] = await Promise.all([
    must(api().GET("/me")),
    listInstances(),
    must(api().GET("/keys")),
    must(api().GET("/webhooks")),
    must(api().GET("/usage", { params: { query: { from: since, granularity: "day" } } })),
  ]);
  return { account, instances, keys: keys.data, webhooks: webhooks.data, usage };
}

export function Home() {
  const home = useResource(loadHome, []);
  useLiveEvents((event) => {
    if (event.type.startsWith("instance.") || event.type === "message.sent") home.reload();
  });
  if (!home.data) {
    return (
      <section>
        <PageHeader title={t("home.title")} />
        {home.status === "error" ? <ErrorNotice error={home.error} onRetry={home.reload} /> : <Loading />}
      </section>
    );
  }
  const { account, instances, keys, webhooks, usage } = home.data;
  const steps: { key: TextKey; done: boolean; href: string }[] = [
    { key: "home.stepKey", done: keys.some((key) => !key.revoked), href: "#/keys" },
    { key: "home.stepNumber", done: instances.some((instance) => instance.status === "connected"), href: "#/numbers" },
    { key: "home.stepMessage", done: usage.totals.sends > 0, href: "#/send" },
    { key: "home.stepWebhook", done: webhooks.length > 0, href: "#/webhooks" },
  ];
  const doneCount = steps.filter((step) => step.done).length;
  return (
    <section>
      <PageHeader title={t("home.welcome", { name: account.name })} />
      <div class="grid two">
        <section class="card" aria-labelledby="home-numbers">
          <h2 id="home-numbers">{t("home.numbers")}</h2>
          {instances.length === 0 ? (
            <Empty>
              <p>{t("numbers.empty")}</p>
              <a class="button primary" href="#/numbers">
                {t("numbers.create")}
              </a>
            </Empty>
          ) : (
            <ul class="list" data-testid="home-numbers">
              {instances.map((instance) => (
                <li key={instance.id}>
                  <a href={`#/numbers/${instance.id}`}>{instance.name}</a>
                  <span class="mono">{instance.phone ?? t("numbers.noPhone")}</span>
                  <StatusBadge status={instance.status} />
                </li>
              ))}
            </ul>
          )}
        </section>
        <section class="card" aria-labelledby="home-checklist">
          <h2 id="home-checklist">{t("home.checklist")}</h2>
          <p class="muted">{t("home.progress", { done: doneCount, total: steps.length })}</p>
          <ol class="checklist" data-testid="checklist">
            {steps.map((step) => (
              <li key={step.key} class={step.done ? "done" : "todo"} data-done={step.done ? "true" : "false"}>
                <span class="check" aria-hidden="true">
                  {step.done ? "✓" : "○"}
                </span>
                <a href={step.href}>{t(step.key)}</a>
                <span class="visually-hidden">{step.done ? t("home.done") : t("home.todo")}</span>
              </li>
            ))}
          </ol>
        </section>
      </div>
    </section>
  );
}
