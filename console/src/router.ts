// Hash routing (`#/numbers/inst_…?tab=pair`): static hosting serves index.html for every page, no rewrites.
import { useEffect, useState } from "preact/hooks";

export interface Route {
  /** Path segments: `#/numbers/inst_1` → ["numbers", "inst_1"]. */
  parts: string[];
  query: URLSearchParams;
  /** The whole hash path with its query, e.g. `/numbers/inst_1?tab=pair`. */
  href: string;
}

export function parseRoute(hash: string = location.hash): Route {
  const href = hash.replace(/^#/, "") || "/";
  const [path = "/", search = ""] = href.split("?", 2);
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(search), href };
}

export function currentRoute(): string {
  return parseRoute().href;
}

export function navigate(href: string): void {
  location.hash = `#${href.startsWith("/") ? href : `/${href}`}`;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute);
  useEffect(() => {
    const update = () => setRoute(parseRoute());
    addEventListener("hashchange", update);
    // The hash may have changed between the first render and now (a session that expired while the app was
    // starting sends it to sign-in): read it again, or the page would stay on what it first rendered.
    update();
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}
