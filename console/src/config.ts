// Where the API is: `config.json` beside index.html (the host writes it: `""` = this same origin).
export interface ConsoleConfig {
  apiBaseUrl: string;
  mode: "local" | "aws" | string;
}

let loaded: ConsoleConfig | undefined;

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("./config.json", { cache: "no-store" });
  if (!response.ok) {
    throw new Error(`config.json answered ${response.status}`);
  }
  const body = (await response.json()) as Partial<ConsoleConfig>;
  loaded = { apiBaseUrl: body.apiBaseUrl ?? "", mode: body.mode ?? "aws" };
  return loaded;
}

/** The API's origin: the configured one, else this page's (the SDK's stream needs an absolute URL). */
export function apiBaseUrl(): string {
  return (loaded?.apiBaseUrl || location.origin).replace(/\/+$/, "");
}

export function isLocalStack(): boolean {
  return loaded?.mode === "local";
}
