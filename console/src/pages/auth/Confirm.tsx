import { useState } from "preact/hooks";

import { must } from "../../api/errors";
import { t } from "../../i18n";
import { navigate, type Route } from "../../router";
import { publicClient } from "../../session/session";
import { ActionError, Form, TextField, useAction } from "../../ui/form";
import { Notice } from "../../ui/states";
import { AuthFrame } from "./AuthFrame";

export function Confirm({ route }: { route: Route }) {
  const [email, setEmail] = useState(route.query.get("email") ?? "");
  const [code, setCode] = useState("");
  // The sign-up's password again: a code confirms only the sign-up that chose it (docs/accounts.md).
  const [password, setPassword] = useState("");
  const action = useAction();
  return (
    <AuthFrame title={t("auth.confirmTitle")}>
      {route.query.get("email") ? <Notice>{t("auth.codeSent", { email })}</Notice> : null}
      <Form
        label={t("auth.confirmTitle")}
        onSubmit={() =>
          void action.run(async () => {
            await must(publicClient().POST("/auth/confirm", { body: { email, code: code.trim(), password } }));
            navigate(`/signin?confirmed=1&email=${encodeURIComponent(email)}`);
          })
        }
      >
        <TextField label={t("field.email")} type="email" autoComplete="email" required value={email} onValue={setEmail} />
        <TextField
          label={t("field.code")}
          inputMode="numeric"
          autoComplete="one-time-code"
          required
          value={code}
          onValue={setCode}
        />
        <TextField
          label={t("field.password")}
          hint={t("auth.confirmPasswordHint")}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        <ActionError action={action} />
        <button type="submit" class="button primary" disabled={action.busy}>
          {action.busy ? t("state.working") : t("auth.confirm")}
        </button>
      </Form>
      <p class="auth-links">
        <a href="#/signin">{t("auth.toSignIn")}</a>
      </p>
    </AuthFrame>
  );
}
