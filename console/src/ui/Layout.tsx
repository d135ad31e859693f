// The frame around every signed-in page: the mode switch (always visible), the language, the navigation.
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";

import { t, type TextKey } from "../i18n";
import { useStreamState } from "../live/events";
import type { Route } from "../router";
import { currentSession, isLive, setLive, signOut } from "../session/session";
import { LanguageSwitch } from "./LanguageSwitch";

const NAV: readonly { href: string; key: TextKey }[] = [
  { href: "/", key: "nav.home" },
  { href: "/numbers", key: "nav.numbers" },
  { href: "/send", key: "nav.send" },
  { href: "/inbox", key: "nav.inbox" },
  { href: "/events", key: "nav.events" },
  { href: "/webhooks", key: "nav.webhooks" },
  { href: "/usage", key: "nav.usage" },
  { href: "/wallet", key: "nav.wallet" },
  { href: "/keys", key: "nav.keys" },
  { href: "/settings", key: "nav.settings" },
];

function ModeSwitch() {
  const live = isLive();
  return (
    <button
      type="button"
      role="switch"
      aria-checked={live}
      class={`mode-switch ${live ? "is-live" : "is-test"}`}
      data-testid="mode-switch"
      onClick={() => setLive(!live)}
    >
      <span class="mode-track" aria-hidden="true">
        <span class="mode-thumb" />
      </span>
      <span>{t("mode.live")}</span>
    </button>
  );
}

function StreamBadge() {
  const state = useStreamState();
  const key: TextKey = state === "open" ? "stream.open" : state === "idle" ? "stream.idle" : "stream.connecting";
  return (
    <span class={`stream-badge stream-${state}`} data-testid="stream-state" data-state={state}>
      <span class="dot" aria-hidden="true" />
      {t(key)}
    </span>
  );
}

export function Layout({ route, children }: { route: Route; children: ComponentChildren }) {
  const [menuOpen, setMenuOpen] = useState(false);
  const main = useRef<HTMLElement>(null);
  const active = `/${route.parts[0] ?? ""}`;
  useEffect(() => {
    setMenuOpen(false);
    main.current?.focus({ preventScroll: true }); // a new page: screen readers start at its content
  }, [route.parts.join("/")]);
  return (
    <div class={`shell ${isLive() ? "live" : "test"}`}>
      <button type="button" class="skip-link" onClick={() => main.current?.focus()}>
        {t("a11y.skip")}
      </button>
      <header class="topbar">
        <button
          type="button"
          class="menu-button"
          aria-expanded={menuOpen}
          aria-controls="main-nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          <span aria-hidden="true">☰</span>
          <span class="visually-hidden">{t("nav.menu")}</span>
        </button>
        <a class="brand" href="#/">
          bzapper
        </a>
        <ModeSwitch />
        <div class="topbar-end">
          <StreamBadge />
          <LanguageSwitch compact />
          <span class="who" title={currentSession()?.email}>
            {currentSession()?.email}
          </span>
          <button type="button" class="button secondary small" onClick={() => void signOut()}>
            {t("auth.signOut")}
          </button>
        </div>
      </header>
      {isLive() ? null : (
        <div class="test-banner" role="note" data-testid="test-banner">
          {t("mode.testBanner")}
        </div>
      )}
      <div class="body">
        <nav id="main-nav" class={`nav ${menuOpen ? "open" : ""}`} aria-label={t("nav.label")}>
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <a
                  href={`#${item.href}`}
                  aria-current={active === item.href ? "page" : undefined}
                  onClick={() => setMenuOpen(false)}
                >
                  {t(item.key)}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" ref={main} tabIndex={-1}>
          {children}
        </main>
      </div>
    </div>
  );
}

export function PageHeader({ title, children }: { title: string; children?: ComponentChildren }) {
  useEffect(() => {
    document.title = `${title} · bzapper`;
  }, [title]);
  return (
    <div class="page-header">
      <h1>{title}</h1>
      {children ? <div class="page-actions">{children}</div> : null}
    </div>
  );
}
