// Where the API is: `config.json` beside index.html (the host writes it: `""` = this same origin).
export interface ConsoleConfig {
  apiBaseUrl: string;
  /** Where GET /stream is served when not from the API itself (on AWS: a response-streaming Function URL). */
  streamBaseUrl?: string;
  mode: "local" | "aws" | string;
}

let loaded: ConsoleConfig | undefined;

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("./config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`config.json answered ${response.status}`);
  }
  const body = (await response.json()) as Partial<ConsoleConfig>;
  loaded = { apiBaseUrl: body.apiBaseUrl ?? "", streamBaseUrl: body.streamBaseUrl, mode: body.mode ?? "aws" };
  return loaded;
}

/** The API's origin: the configured one, else this page's (the SDK's stream needs an absolute URL). */
export function apiBaseUrl(): string {
  return (loaded?.apiBaseUrl || location.origin).replace(/\/+$/, "");
}

/** Where the event stream is: its own origin when the host gives one (API Gateway buffers responses). */
export function streamBaseUrl(): string {
  return (loaded?.streamBaseUrl || apiBaseUrl()).replace(/\/+$/, "");
}

export function isLocalStack(): boolean {
  return loaded?.mode === "local";
}
