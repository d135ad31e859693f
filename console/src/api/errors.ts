// What the console shows when a call fails: the API's own translated `message` (it was asked in the chosen
// language with Accept-Language), with `param` and the request id for support; else a network failure.
import { isErrorBody, type ErrorBody } from "../sdk";
import { t } from "../i18n";

export class ApiError extends Error {
  constructor(
    message: string,
    readonly body: ErrorBody | undefined,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = "ApiError";
  }

  get code(): string | undefined {
    return this.body?.code;
  }
}

export function apiError(error: unknown, response?: Response): ApiError {
  if (error instanceof ApiError) return error;
  if (isErrorBody(error)) return new ApiError(error.message, error, response?.status);
  if (error instanceof Error && error.name === "AbortError") return new ApiError(t("error.aborted"), undefined, undefined);
  return new ApiError(t("error.network"), undefined, response?.status);
}

/** The result of an SDK call, or throws ApiError: pages handle one kind of failure. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let result: { data?: T; error?: unknown; response: Response };
  try {
    result = await call;
  } catch (error) {
    throw apiError(error);
  }
  if (result.error !== undefined || !result.response.ok) {
    throw apiError(result.error, result.response);
  }
  return result.data as T;
}
