import { useQueryClient } from "@tanstack/react-query";
import { lazy, Suspense, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router";
import {
  clearSession,
  getAccessToken,
  hasStoredSession,
  onSessionChange,
  refreshSession,
} from "./api/session";
import { useMe, useMeta } from "./api/queries";
import { Loading } from "./components/ui";
import { SignInPage, SignUpPage } from "./pages/Auth";
import { DashboardPage } from "./pages/Dashboard";
import { RecordPage } from "./pages/Record";
import { RecordsPage } from "./pages/Records";

// The pages people open most (dashboard, records) come with the first load; the rest are chunks of their
// own, fetched when first visited.
const AlertsPage = lazy(() => import("./pages/Alerts").then((m) => ({ default: m.AlertsPage })));
const ConnectionsPage = lazy(() =>
  import("./pages/Connections").then((m) => ({ default: m.ConnectionsPage })),
);
const OnportPage = lazy(() => import("./pages/Onport").then((m) => ({ default: m.OnportPage })));
const SetupPage = lazy(() => import("./pages/Setup").then((m) => ({ default: m.SetupPage })));
const UsersPage = lazy(() => import("./pages/Users").then((m) => ({ default: m.UsersPage })));
const ReconciliationPage = lazy(() =>
  import("./pages/Reconciliation").then((m) => ({ default: m.ReconciliationPage })),
);
const RollbackPage = lazy(() => import("./pages/Rollback").then((m) => ({ default: m.RollbackPage })));

function useSignedIn(): boolean {
  return useSyncExternalStore(onSessionChange, () => getAccessToken() !== null);
}

/** On load, a stored refresh token signs the user in silently (it rotates: the old one stops working). */
function useSilentSignIn(): boolean {
  const [ready, setReady] = useState(() => getAccessToken() !== null || !hasStoredSession());
  useEffect(() => {
    if (ready) return;
    void refreshSession().finally(() => setReady(true));
  }, [ready]);
  return ready;
}

function SandboxBanner() {
  const meta = useMeta();
  const sandbox = meta.data?.sandbox;
  if (!sandbox) return null;
  return (
    <aside className="sandbox-banner" aria-label="Sandbox">
      <strong>Sandbox.</strong> Xero, ONTRAPORT and Onport are local stand-ins. Paste these where asked:
      ONTRAPORT App ID <code>{sandbox.ontraport_app_id}</code>, API key{" "}
      <code>{sandbox.ontraport_api_key}</code>; Onport token <code>{sandbox.onport_token}</code>.{" "}
      <a href={sandbox.xero_view_url} target="_blank" rel="noreferrer">
        Xero sandbox books
      </a>
    </aside>
  );
}

function Shell({ children }: { children: ReactNode }) {
  const me = useMe();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const signOut = () => {
    clearSession();
    queryClient.clear();
    navigate("/signin");
  };
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <SandboxBanner />
      <header className="topbar">
        <span className="brand">ledgerbridge</span>
        <nav aria-label="Main">
          <ul>
            <li>
              <NavLink to="/" end>
                Dashboard
              </NavLink>
            </li>
            <li>
              <NavLink to="/setup">Setup</NavLink>
            </li>
            <li>
              <NavLink to="/records">Records</NavLink>
            </li>
            <li>
              <NavLink to="/reconciliation">Reconciliation</NavLink>
            </li>
            <li>
              <NavLink to="/connections">Connections</NavLink>
            </li>
            <li>
              <NavLink to="/onport">Onport</NavLink>
            </li>
            <li>
              <NavLink to="/users">Users</NavLink>
            </li>
            <li>
              <NavLink to="/alerts">Alerts</NavLink>
            </li>
          </ul>
        </nav>
        <div className="who">
          {me.data ? (
            <span>
              {me.data.email} ({me.data.role})
            </span>
          ) : null}
          <button type="button" className="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

function PublicShell({ children }: { children: ReactNode }) {
  return (
    <>
      <SandboxBanner />
      <main id="main" className="public">
        {children}
      </main>
    </>
  );
}

export function App() {
  const ready = useSilentSignIn();
  const signedIn = useSignedIn();
  const location = useLocation();
  useEffect(() => {
    const title = document.querySelector("main h1")?.textContent;
    document.title = title ? `${title} · ledgerbridge` : "ledgerbridge";
  });
  if (!ready) return <Loading what="your session" />;
  if (!signedIn) {
    return (
      <PublicShell>
        <Routes>
          <Route path="/signup" element={<SignUpPage />} />
          <Route path="/signin" element={<SignInPage />} />
          <Route
            path="*"
            element={<Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />}
          />
        </Routes>
      </PublicShell>
    );
  }
  return (
    <Shell>
      <Suspense fallback={<Loading what="the page" />}>
        <Routes>
          <Route path="/" element={<DashboardPage />} />
          <Route path="/setup" element={<SetupPage />} />
          <Route path="/setup/:step" element={<SetupPage />} />
          <Route path="/records" element={<RecordsPage />} />
          <Route path="/records/:recordId" element={<RecordPage />} />
          <Route path="/connections" element={<ConnectionsPage />} />
          <Route path="/onport" element={<OnportPage />} />
          <Route path="/users" element={<UsersPage />} />
          <Route path="/alerts" element={<AlertsPage />} />
          <Route path="/reconciliation" element={<ReconciliationPage />} />
          <Route path="/rollback" element={<RollbackPage />} />
          <Route path="/signin" element={<Navigate to="/" replace />} />
          <Route path="/signup" element={<Navigate to="/setup" replace />} />
          <Route path="*" element={<h1>Page not found</h1>} />
        </Routes>
      </Suspense>
    </Shell>
  );
}
