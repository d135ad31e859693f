// The account: its name, id and plan (read), its language (PATCH /me: emails, OTP texts, API errors by
// default), and the plan's limits with what is used of them.
import { useEffect, useState } from "preact/hooks";

import { api } from "../api/client";
import { must } from "../api/errors";
import { LOCALE_NAMES, LOCALES, t, type Locale } from "../i18n";
import { currentSession } from "../session/session";
import { ActionError, Form, SelectField, useAction } from "../ui/form";
import { count, dateTime, money } from "../ui/format";
import { PageHeader } from "../ui/Layout";
import { useResource } from "../ui/resource";
import { ErrorNotice, Loading, Notice } from "../ui/states";

export function Settings() {
  const account = useResource(async () => {
    const [me, entitlements] = await Promise.all([must(api().GET("/me")), must(api().GET("/me/entitlements"))]);
    return { me, entitlements };
  }, []);
  const [language, setLanguage] = useState<Locale>("en");
  const [saved, setSaved] = useState(false);
  const save = useAction();
  useEffect(() => {
    if (account.data) setLanguage(account.data.me.locale);
  }, [account.data?.me.locale]);
  if (!account.data) {
    return (
      <section>
        <PageHeader title={t("settings.title")} />
        {account.status === "error" ? <ErrorNotice error={account.error} onRetry={account.reload} /> : <Loading />}
      </section>
    );
  }
  const { me, entitlements } = account.data;
  return (
    <section>
      <PageHeader title={t("settings.title")} />
      <div class="grid two">
        <section class="card" aria-labelledby="settings-account">
          <h2 id="settings-account">{t("settings.account")}</h2>
          <dl class="facts">
            <dt>{t("field.name")}</dt>
            <dd data-testid="account-name">{me.name}</dd>
            <dt>{t("field.email")}</dt>
            <dd>{currentSession()?.email}</dd>
            <dt>ID</dt>
            <dd class="mono">{me.account_id}</dd>
            <dt>{t("settings.plan")}</dt>
            <dd>{me.plan}</dd>
            <dt>{t("field.created")}</dt>
            <dd>{dateTime(me.created)}</dd>
          </dl>
          <Form
            label={t("settings.language")}
            onSubmit={() =>
              void save.run(async () => {
                setSaved(false);
                await must(api().PATCH("/me", { body: { locale: language } }));
                setSaved(true);
                account.reload();
              })
            }
          >
            <SelectField
              label={t("settings.language")}
              hint={t("settings.languageHint")}
              value={language}
              options={LOCALES.map((code) => ({ value: code, label: LOCALE_NAMES[code] }))}
              onValue={setLanguage}
            />
            <ActionError action={save} />
            {saved ? <Notice tone="success">{t("state.saved")}</Notice> : null}
            <button type="submit" class="button primary" disabled={save.busy}>
              {t("action.save")}
            </button>
          </Form>
        </section>
        <section class="card" aria-labelledby="settings-plan">
          <h2 id="settings-plan">{t("settings.limits")}</h2>
          <dl class="facts">
            <dt>{t("settings.price")}</dt>
            <dd>{money(entitlements.price_per_send)}</dd>
            <dt>{t("settings.instances")}</dt>
            <dd>{t("settings.used", { used: count(entitlements.usage.instances), limit: count(entitlements.limits.instances) })}</dd>
            <dt>{t("settings.webhooks")}</dt>
            <dd>{t("settings.used", { used: count(entitlements.usage.webhooks), limit: count(entitlements.limits.webhooks) })}</dd>
            <dt>{t("settings.sendsPerMinute")}</dt>
            <dd>{t("settings.used", { used: count(entitlements.usage.sends_this_minute), limit: count(entitlements.limits.sends_per_minute) })}</dd>
            <dt>{t("settings.mediaSize")}</dt>
            <dd>{t("settings.megabytes", { mb: Math.round(entitlements.limits.media_size_bytes / 1048576) })}</dd>
          </dl>
        </section>
      </div>
    </section>
  );
}
