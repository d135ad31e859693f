import { useState } from "preact/hooks";

import { must } from "../../api/errors";
import { t } from "../../i18n";
import { navigate, type Route } from "../../router";
import { publicClient } from "../../session/session";
import { ActionError, Form, TextField, useAction } from "../../ui/form";
import { Notice } from "../../ui/states";
import { AuthFrame } from "./AuthFrame";

export function Forgot() {
  const [email, setEmail] = useState("");
  const action = useAction();
  return (
    <AuthFrame title={t("auth.forgotTitle")}>
      <Form
        label={t("auth.forgotTitle")}
        onSubmit={() =>
          void action.run(async () => {
            await must(publicClient().POST("/auth/password/forgot", { body: { email } }));
            navigate(`/reset?email=${encodeURIComponent(email)}`);
          })
        }
      >
        <TextField label={t("field.email")} type="email" autoComplete="email" required value={email} onValue={setEmail} />
        <ActionError action={action} />
        <button type="submit" class="button primary" disabled={action.busy}>
          {action.busy ? t("state.working") : t("auth.sendResetCode")}
        </button>
      </Form>
      <p class="auth-links">
        <a href="#/signin">{t("auth.toSignIn")}</a>
      </p>
    </AuthFrame>
  );
}

export function Reset({ route }: { route: Route }) {
  const [email, setEmail] = useState(route.query.get("email") ?? "");
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const action = useAction();
  return (
    <AuthFrame title={t("auth.resetTitle")}>
      <Notice>{t("auth.resetSent")}</Notice>
      <Form
        label={t("auth.resetTitle")}
        onSubmit={() =>
          void action.run(async () => {
            await must(publicClient().POST("/auth/password/reset", { body: { email, code: code.trim(), password } }));
            navigate(`/signin?reset=1&email=${encodeURIComponent(email)}`);
          })
        }
      >
        <TextField label={t("field.email")} type="email" autoComplete="email" required value={email} onValue={setEmail} />
        <TextField label={t("field.code")} inputMode="numeric" autoComplete="one-time-code" required value={code} onValue={setCode} />
        <TextField
          label={t("field.newPassword")}
          hint={t("auth.passwordRule")}
          type="password"
          autoComplete="new-password"
          required
          value={password}
          onValue={setPassword}
        />
        <ActionError action={action} />
        <button type="submit" class="button primary" disabled={action.busy}>
          {action.busy ? t("state.working") : t("auth.resetPassword")}
        </button>
      </Form>
    </AuthFrame>
  );
}
