import { useState } from "preact/hooks";

import { must } from "../../api/errors";
import { locale, LOCALE_NAMES, LOCALES, t, type Locale } from "../../i18n";
import { navigate } from "../../router";
import { publicClient } from "../../session/session";
import { ActionError, Form, SelectField, TextField, useAction } from "../../ui/form";
import { AuthFrame } from "./AuthFrame";

export function SignUp() {
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [language, setLanguage] = useState<Locale>(locale());
  const action = useAction();
  return (
    <AuthFrame title={t("auth.signUpTitle")}>
      <Form
        label={t("auth.signUpTitle")}
        onSubmit={() =>
          void action.run(async () => {
            await must(publicClient().POST("/auth/signup", { body: { name, email, password, locale: language } }));
            navigate(`/confirm?email=${encodeURIComponent(email)}`);
          })
        }
      >
        <TextField label={t("field.name")} autoComplete="organization" required value={name} onValue={setName} />
        <TextField label={t("field.email")} type="email" autoComplete="email" required value={email} onValue={setEmail} />
        <TextField
          label={t("field.password")}
          hint={t("auth.passwordRule")}
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onValue={setPassword}
        />
        <SelectField
          label={t("field.accountLanguage")}
          value={language}
          options={LOCALES.map((code) => ({ value: code, label: LOCALE_NAMES[code] }))}
          onValue={setLanguage}
        />
        <ActionError action={action} />
        <button type="submit" class="button primary" disabled={action.busy}>
          {action.busy ? t("state.working") : t("auth.signUp")}
        </button>
      </Form>
      <p class="auth-links">
        <a href="#/signin">{t("auth.toSignIn")}</a>
      </p>
    </AuthFrame>
  );
}
