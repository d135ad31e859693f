// Loading → data | error, for one API read; `reload` reads again (after an action, a live event).
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

import { apiError, type ApiError } from "../api/errors";

export type Resource<T> =
  | { status: "loading"; data?: T; error?: undefined; reload: () => void }
  | { status: "ready"; data: T; error?: undefined; reload: () => void }
  | { status: "error"; data?: T; error: ApiError; reload: () => void };

export function useResource<T>(load: () => Promise<T>, deps: readonly unknown[]): Resource<T> {
  const [state, setState] = useState<{ status: "loading" | "ready" | "error"; data?: T; error?: ApiError }>({
    status: "loading",
  });
  const generation = useRef(0);
  const latestLoad = useRef(load);
  latestLoad.current = load;

  const run = useCallback((quiet: boolean) => {
    const mine = ++generation.current;
    if (!quiet) setState((previous) => ({ status: "loading", data: previous.data }));
    latestLoad
      .current()
      .then((data) => mine === generation.current && setState({ status: "ready", data }))
      .catch((error: unknown) => mine === generation.current && setState((previous) => ({ status: "error", data: previous.data, error: apiError(error) })));
  }, []);

  useEffect(() => {
    run(false);
    return () => {
      generation.current++; // a late answer for an unmounted page or old parameters is dropped
    };
  }, deps);

  const reload = useCallback(() => run(true), [run]);
  return { ...state, reload } as Resource<T>;
}
