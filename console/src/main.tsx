// Boot: read config.json, then render the page the hash names (signed-out pages, or the console itself).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";

import "./styles.css";
import { loadConfig } from "./config";
import { onLocaleChange, t } from "./i18n";
import { startLiveEvents } from "./live/events";
import { navigate, parseRoute, useRoute, type Route } from "./router";
import { currentSession, isLive, onSessionChange } from "./session/session";
import { Layout } from "./ui/Layout";
import { Confirm } from "./pages/auth/Confirm";
import { Forgot, Reset } from "./pages/auth/Forgot";
import { SignIn } from "./pages/auth/SignIn";
import { SignUp } from "./pages/auth/SignUp";
import { Events } from "./pages/Events";
import { Home } from "./pages/Home";
import { Inbox } from "./pages/Inbox";
import { Keys } from "./pages/Keys";
import { NumberDetail } from "./pages/NumberDetail";
import { Numbers } from "./pages/Numbers";
import { Send } from "./pages/Send";
import { Settings } from "./pages/Settings";
import { Usage } from "./pages/Usage";
import { Wallet } from "./pages/Wallet";
import { WebhookDetail } from "./pages/WebhookDetail";
import { Webhooks } from "./pages/Webhooks";

const PUBLIC_PAGES: Record<string, (props: { route: Route }) => preact.JSX.Element> = {
  signin: SignIn,
  signup: SignUp,
  confirm: Confirm,
  forgot: Forgot,
  reset: Reset,
};

function ConsolePage({ route }: { route: Route }) {
  const [section, id] = route.parts;
  switch (section) {
    case undefined:
      return <Home />;
    case "numbers":
      return id ? <NumberDetail instanceId={id} /> : <Numbers />;
    case "send":
      return <Send route={route} />;
    case "inbox":
      return <Inbox route={route} />;
    case "events":
      return <Events route={route} />;
    case "webhooks":
      return id ? <WebhookDetail webhookId={id} /> : <Webhooks />;
    case "usage":
      return <Usage />;
    case "wallet":
      return <Wallet route={route} />;
    case "keys":
      return <Keys />;
    case "settings":
      return <Settings />;
    default:
      return <p>{t("state.notFound")}</p>;
  }
}

function useRerenderOn(subscribe: (listener: () => void) => () => void): void {
  const [, setTick] = useState(0);
  useEffect(() => subscribe(() => setTick((tick) => tick + 1)), []);
}

function App() {
  const route = useRoute();
  useRerenderOn(onLocaleChange);
  useRerenderOn(onSessionChange);
  const section = route.parts[0] ?? "";
  const Public = PUBLIC_PAGES[section];
  const signedIn = currentSession() !== undefined;
  useEffect(() => {
    // Read the address now, not the render's: an expiry may have moved it to sign-in already.
    const now = parseRoute();
    if (!currentSession() && !PUBLIC_PAGES[now.parts[0] ?? ""]) navigate(`/signin?next=${encodeURIComponent(now.href)}`);
  }, [signedIn, Public, route.href]);
  if (Public) return <Public route={route} />;
  if (!signedIn) return null;
  // Keyed by mode: a switch remounts the page, so it reads that mode's data afresh.
  return (
    <Layout route={route}>
      <ConsolePage key={`${isLive()}:${route.parts.join("/")}`} route={route} />
    </Layout>
  );
}

async function boot(): Promise<void> {
  const root = document.getElementById("app");
  if (!root) return;
  try {
    await loadConfig();
  } catch {
    root.textContent = t("error.config");
    return;
  }
  startLiveEvents();
  render(<App />, root);
}

void boot();
