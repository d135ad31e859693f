import { useState } from "preact/hooks";

import { t } from "../../i18n";
import { navigate, type Route } from "../../router";
import { signIn } from "../../session/session";
import { ActionError, Form, TextField, useAction } from "../../ui/form";
import { Notice } from "../../ui/states";
import { AuthFrame } from "./AuthFrame";

/** Only a page of this console may be the way back after sign-in (no open redirect through `next`). */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/signin") ? next : "/";
}

export function SignIn({ route }: { route: Route }) {
  const [email, setEmail] = useState(route.query.get("email") ?? "");
  const [password, setPassword] = useState("");
  const action = useAction();
  const notices = [
    route.query.get("expired") ? t("auth.expired") : undefined,
    route.query.get("confirmed") ? t("auth.confirmedNotice") : undefined,
    route.query.get("reset") ? t("auth.resetDone") : undefined,
  ].filter(Boolean);
  return (
    <AuthFrame title={t("auth.signInTitle")}>
      {notices.map((text) => (
        <Notice key={text}>{text}</Notice>
      ))}
      <Form
        label={t("auth.signInTitle")}
        onSubmit={() =>
          void action.run(async () => {
            await signIn(email, password);
            navigate(safeNext(route.query.get("next")));
          })
        }
      >
        <TextField label={t("field.email")} type="email" autoComplete="username" required value={email} onValue={setEmail} />
        <TextField
          label={t("field.password")}
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onValue={setPassword}
        />
        <ActionError action={action} />
        <button type="submit" class="button primary" disabled={action.busy}>
          {action.busy ? t("state.working") : t("auth.signIn")}
        </button>
      </Form>
      <p class="auth-links">
        <a href="#/signup">{t("auth.toSignUp")}</a> · <a href="#/forgot">{t("auth.toForgot")}</a> ·{" "}
        <a href="#/confirm">{t("auth.toConfirm")}</a>
      </p>
    </AuthFrame>
  );
}
