// The typed API client: generated types (schema.d.ts, `make web-client`) + openapi-fetch.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";
import { getAccessToken, refreshSession } from "./session";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

/** Adds the access token; on a 401 refreshes the session once and repeats the request. */
async function authFetch(input: Request): Promise<Response> {
  const again = input.clone();
  const token = getAccessToken();
  if (token) input.headers.set("Authorization", `Bearer ${token}`);
  const response = await fetch(input);
  if (response.status !== 401 || new URL(input.url).pathname.startsWith("/v1/auth/")) return response;
  if (!(await refreshSession())) return response;
  again.headers.set("Authorization", `Bearer ${getAccessToken() ?? ""}`);
  return fetch(again);
}

export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "http://localhost" : window.location.origin,
  fetch: authFetch,
});

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: Partial<Problem>,
  ) {
    super(problem.detail ?? problem.title ?? `Request failed (${status})`);
  }
}

interface Answer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The answer's data, or an ApiError carrying the RFC 9457 problem the API sent. */
export function unwrap<T>(answer: Answer<T>): T {
  if (answer.error !== undefined || !answer.response.ok) {
    const problem = (answer.error ?? {}) as Partial<Problem>;
    throw new ApiError(answer.response.status, problem);
  }
  return answer.data as T;
}

/** Words for a person: the problem's detail, and each field error. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const fields = (error.problem.errors ?? [])
      .map((item) => {
        const entry = item as { loc?: unknown[]; msg?: string };
        const where = (entry.loc ?? []).filter((part) => part !== "body").join(".");
        return where ? `${where}: ${entry.msg ?? ""}` : (entry.msg ?? "");
      })
      .filter(Boolean);
    return [error.message, ...fields].join(" · ");
  }
  return error instanceof Error ? error.message : String(error);
}
