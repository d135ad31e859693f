// The wallet of this mode: balance, ledger (newest first, paged), top-up. The checkout page opens in a new tab
// (the sandbox's page in test mode, Stripe Checkout live); the balance is re-read while one may be paid.
import { useEffect, useState } from "preact/hooks";

import { api } from "../api/client";
import { must } from "../api/errors";
import { t, type TextKey } from "../i18n";
import type { Route } from "../router";
import type { Schemas } from "../sdk";
import { isLive } from "../session/session";
import { ActionError, Form, SelectField, TextField, useAction } from "../ui/form";
import { dateTime, money } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { Empty, ErrorNotice, Loading, Notice } from "../ui/states";

const WATCH_MS = 3000;
const WATCH_FOR_MS = 15 * 60 * 1000;

function TopUp({ onOpened }: { onOpened: () => void }) {
  const [amount, setAmount] = useState("50.00");
  const [method, setMethod] = useState<"pix" | "card">("pix");
  const [opened, setOpened] = useState<string>();
  const action = useAction();
  return (
    <section class="card" aria-labelledby="top-up">
      <h2 id="top-up">{t("wallet.topUp")}</h2>
      <p class="muted">{isLive() ? t("wallet.liveHint") : t("wallet.testHint")}</p>
      <Form
        label={t("wallet.topUp")}
        onSubmit={() =>
          void action.run(async () => {
            const centavos = Math.round(Number(amount.replace(",", ".")) * 100);
            const checkout = await must(api().POST("/billing/checkout", { body: { amount: centavos, method } }));
            // A navigation to the payment page (its own origin on AWS), never a fetch.
            window.open(checkout.url, "_blank", "noopener");
            setOpened(checkout.url);
            onOpened();
          })
        }
      >
        <TextField label={t("wallet.amount")} inputMode="decimal" required value={amount} onValue={setAmount} />
        <SelectField
          label={t("wallet.method")}
          value={method}
          options={[
            { value: "pix", label: "Pix" },
            { value: "card", label: t("wallet.card") },
          ]}
          onValue={setMethod}
        />
        <ActionError action={action} />
        <button type="submit" class="button primary" disabled={action.busy}>
          {t("wallet.pay")}
        </button>
      </Form>
      {opened ? (
        <Notice>
          {t("wallet.opened")}{" "}
          <a href={opened} target="_blank" rel="noopener">
            {t("wallet.openAgain")}
          </a>
        </Notice>
      ) : null}
    </section>
  );
}

function Ledger({ first }: { first: Schemas["Wallet"] }) {
  const [more, setMore] = useState<Schemas["LedgerEntryOut"][]>([]);
  const [cursor, setCursor] = useState(first.next_cursor);
  const action = useAction();
  useEffect(() => {
    setMore([]);
    setCursor(first.next_cursor);
  }, [first]);
  const entries = [...first.entries, ...more];
  if (entries.length === 0) return <Empty>{t("wallet.noEntries")}</Empty>;
  return (
    <>
      <div class="table-wrap" tabIndex={0} role="region" aria-label={t("a11y.table")}>
        <table class="table" data-testid="ledger">
          <caption class="visually-hidden">{t("wallet.ledger")}</caption>
          <thead>
            <tr>
              <th scope="col">{t("field.time")}</th>
              <th scope="col">{t("wallet.reason")}</th>
              <th scope="col">{t("wallet.amount")}</th>
              <th scope="col">{t("wallet.reference")}</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((entry) => {
              const key = `reason.${entry.reason}` as TextKey;
              return (
                <tr key={entry.id}>
                  <td>{dateTime(entry.created)}</td>
                  <td>{t(key) === key ? entry.reason : t(key)}</td>
                  <td class={`num ${entry.amount < 0 ? "negative" : "positive"}`}>{money(entry.amount)}</td>
                  <td class="mono small">{entry.reference ?? "—"}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {cursor ? (
        <button
          type="button"
          class="button secondary"
          disabled={action.busy}
          onClick={() =>
            void action.run(async () => {
              const page = await must(api().GET("/billing/wallet", { params: { query: { cursor, limit: 50 } } }));
              setMore([...more, ...page.entries]);
              setCursor(page.next_cursor);
            })
          }
        >
          {t("action.loadMore")}
        </button>
      ) : null}
      <ActionError action={action} />
    </>
  );
}

export function Wallet({ route }: { route: Route }) {
  const wallet = useResource(() => must(api().GET("/billing/wallet", { params: { query: { limit: 50 } } })), []);
  const [watchUntil, setWatchUntil] = useState(route.query.get("watch") ? Date.now() + WATCH_FOR_MS : 0);
  useEffect(() => {
    if (!watchUntil) return undefined;
    const timer = setInterval(() => (Date.now() > watchUntil ? setWatchUntil(0) : wallet.reload()), WATCH_MS);
    return () => clearInterval(timer);
  }, [watchUntil]);
  return (
    <section>
      <PageHeader title={t("wallet.title")}>
        <button type="button" class="button secondary" onClick={wallet.reload}>
          {t("action.refresh")}
        </button>
      </PageHeader>
      {wallet.status === "error" ? <ErrorNotice error={wallet.error} onRetry={wallet.reload} /> : null}
      <div class="grid two">
        <section class="card" aria-labelledby="balance">
          <h2 id="balance">{t("wallet.balance")}</h2>
          {wallet.data ? (
            <>
              <p class="balance" data-testid="balance" data-centavos={wallet.data.balance}>
                {money(wallet.data.balance, wallet.data.currency)}
              </p>
              <p class="muted small">{t("wallet.threshold", { amount: money(wallet.data.low_balance_threshold) })}</p>
            </>
          ) : (
            <Loading />
          )}
        </section>
        <TopUp onOpened={() => setWatchUntil(Date.now() + WATCH_FOR_MS)} />
      </div>
      <section class="card" aria-labelledby="ledger-title">
        <h2 id="ledger-title">{t("wallet.ledger")}</h2>
        {wallet.data ? <Ledger first={wallet.data} /> : <Loading />}
      </section>
    </section>
  );
}
