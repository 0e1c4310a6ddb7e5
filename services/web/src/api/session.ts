// The signed-in session: a short-lived access token in memory and the rotating refresh token in
// localStorage, so a reload (or a new tab) signs in silently with one POST /v1/auth/refresh.
import type { components } from "./schema";

type TokenPair = components["schemas"]["TokenPair"];

const REFRESH_KEY = "ledgerbridge.refresh_token";
// The access token also lives in this tab's sessionStorage until it expires, so a reload needs no
// refresh round-trip; a new tab starts with the refresh token alone.
const ACCESS_KEY = "ledgerbridge.access_token";
let refreshTimer: ReturnType<typeof setTimeout> | undefined;
adoptHandedSession();
let accessToken: string | null = restoreAccess();
let inFlight: Promise<boolean> | null = null;
const listeners = new Set<() => void>();

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}

/** `ledgerbridge run` opens the app at `/#session=<refresh token>`: keep the token, drop it from the URL. */
function adoptHandedSession(): void {
  if (typeof window === "undefined" || !window.location.hash.startsWith("#session=")) return;
  const token = decodeURIComponent(window.location.hash.slice("#session=".length));
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  if (token) {
    localStorage.setItem(REFRESH_KEY, token);
    sessionStorage.removeItem(ACCESS_KEY);
  }
}

function restoreAccess(): string | null {
  if (typeof sessionStorage === "undefined") return null;
  try {
    const saved = JSON.parse(sessionStorage.getItem(ACCESS_KEY) ?? "null") as {
      token: string;
      until: number;
    } | null;
    if (!saved || saved.until <= Date.now() || !localStorage.getItem(REFRESH_KEY)) return null;
    refreshTimer = setTimeout(
      () => void refreshSession(),
      Math.max(5_000, saved.until - Date.now() - 60_000),
    );
    return saved.token;
  } catch {
    return null;
  }
}

export function getAccessToken(): string | null {
  return accessToken;
}

export function hasStoredSession(): boolean {
  return localStorage.getItem(REFRESH_KEY) !== null;
}

export function storeTokens(pair: TokenPair): void {
  accessToken = pair.access_token;
  localStorage.setItem(REFRESH_KEY, pair.refresh_token);
  sessionStorage.setItem(
    ACCESS_KEY,
    JSON.stringify({ token: pair.access_token, until: Date.now() + pair.expires_in * 1000 }),
  );
  clearTimeout(refreshTimer);
  // Refresh a minute before the access token expires, so requests rarely meet a 401.
  const delay = Math.max(5, pair.expires_in - 60) * 1000;
  refreshTimer = setTimeout(() => void refreshSession(), delay);
  notify();
}

export function clearSession(): void {
  accessToken = null;
  localStorage.removeItem(REFRESH_KEY);
  sessionStorage.removeItem(ACCESS_KEY);
  clearTimeout(refreshTimer);
  notify();
}

/** Exchanges the stored refresh token for a new pair; one exchange at a time (tokens are single use). */
export function refreshSession(): Promise<boolean> {
  if (inFlight) return inFlight;
  const token = localStorage.getItem(REFRESH_KEY);
  if (!token) return Promise.resolve(false);
  inFlight = (async () => {
    try {
      const response = await fetch("/v1/auth/refresh", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ refresh_token: token }),
      });
      if (!response.ok) {
        if (response.status === 401) clearSession();
        return false;
      }
      storeTokens((await response.json()) as TokenPair);
      return true;
    } catch {
      return false;
    } finally {
      inFlight = null;
    }
  })();
  return inFlight;
}
