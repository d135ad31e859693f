// Images that need the Authorization header (a QR, a received photo) are fetched through the SDK and shown
// from blob: URLs; an <img src> pointing at the API would carry no credential. Every URL made here is revoked
// when its component goes and on sign-out, so no picture of one account outlives its session.
import { useEffect, useState } from "preact/hooks";

import { onSignOut } from "../session/session";
import { api } from "./client";
import { apiError, type ApiError } from "./errors";

const live = new Set<string>();
onSignOut(() => {
  live.forEach((url) => URL.revokeObjectURL(url));
  live.clear();
});

export function objectUrl(blob: Blob): string {
  const url = URL.createObjectURL(blob);
  live.add(url);
  return url;
}

export function revoke(url: string | undefined): void {
  if (url && live.delete(url)) URL.revokeObjectURL(url);
}

export async function qrImage(instanceId: string): Promise<Blob> {
  const { data, error, response } = await api().GET("/instances/{instance_id}/qr", {
    params: { path: { instance_id: instanceId }, query: { format: "png" } },
    parseAs: "blob",
  });
  if (error !== undefined || !response.ok || !(data instanceof Blob)) throw apiError(error, response);
  return data;
}

export async function mediaBlob(mediaId: string): Promise<Blob> {
  // 302 to a short-lived pre-signed URL, followed by fetch (the credential is not sent across origins).
  const { data, error, response } = await api().GET("/media/{media_id}", {
    params: { path: { media_id: mediaId } },
    parseAs: "blob",
  });
  if (error !== undefined || !response.ok || !(data instanceof Blob)) throw apiError(error, response);
  return data;
}

/** A blob: URL for `load()`'s result while mounted; `key` changes load it again (a new QR). */
export function useBlobUrl(load: (() => Promise<Blob>) | undefined, key: unknown): { url?: string; error?: ApiError } {
  const [state, setState] = useState<{ url?: string; error?: ApiError }>({});
  useEffect(() => {
    if (!load) return undefined;
    let made: string | undefined;
    let gone = false;
    load()
      .then((blob) => {
        if (gone) return;
        made = objectUrl(blob);
        setState((previous) => {
          revoke(previous.url);
          return { url: made };
        });
      })
      .catch((error: unknown) => !gone && setState((previous) => ({ url: previous.url, error: apiError(error) })));
    return () => {
      gone = true;
    };
  }, [key]);
  useEffect(() => () => revoke(state.url), [state.url]);
  return state;
}
