import type { ComponentChildren } from "preact";
import { useEffect } from "preact/hooks";

import { LanguageSwitch } from "../../ui/LanguageSwitch";

/** The signed-out pages: one card, the language switch above it. */
export function AuthFrame({ title, children }: { title: string; children: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · bzapper`;
  }, [title]);
  return (
    <div class="auth">
      <header class="auth-top">
        <span class="brand">bzapper</span>
        <LanguageSwitch />
      </header>
      <main id="main" class="auth-card">
        <h1>{title}</h1>
        {children}
      </main>
    </div>
  );
}
