import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { keys, useConnections, useMe } from "../api/queries";
import { ErrorNotice, formatDate, Loading, StatusBadge, StatusNotice } from "../components/ui";
import { fixFor } from "./fixes";

interface Group {
  key: string;
  status: string;
  reason: string;
  count: number;
  example: Schemas["RecordSummary"];
}

function groupAttention(records: Schemas["RecordSummary"][]): Group[] {
  const groups = new Map<string, Group>();
  for (const record of records) {
    const reason = record.reason ?? "No reason recorded";
    const key = `${record.status}:${record.reason_code ?? reason}`;
    const group = groups.get(key);
    if (group) group.count += 1;
    else groups.set(key, { key, status: record.status, reason, count: 1, example: record });
  }
  return [...groups.values()].sort((a, b) => b.count - a.count);
}

function Attention() {
  const attention = useQuery({
    queryKey: ["attention"],
    queryFn: async () => {
      const [failed, waiting] = await Promise.all([
        api.GET("/v1/records", { params: { query: { status: "failed", page_size: 200 } } }),
        api.GET("/v1/records", { params: { query: { status: "waiting", page_size: 200 } } }),
      ]);
      return [...unwrap(failed).items, ...unwrap(waiting).items];
    },
    refetchInterval: 10_000,
  });
  if (attention.isPending) return <Loading what="what needs attention" />;
  if (attention.error) return <ErrorNotice error={attention.error} />;
  const groups = groupAttention(attention.data);
  if (groups.length === 0)
    return <p>Nothing needs attention: every record is synced or skipped with a reason.</p>;
  return (
    <ul className="attention">
      {groups.map((group) => {
        const fix = fixFor(group.reason, group.example.reason_code);
        return (
          <li key={group.key}>
            <StatusBadge status={group.status} /> <strong>{group.count}</strong>{" "}
            {group.count === 1 ? "record" : "records"}: {group.reason} — <Link to={fix.to}>{fix.text}</Link>
          </li>
        );
      })}
    </ul>
  );
}

function Plan() {
  const me = useMe();
  const queryClient = useQueryClient();
  const plan = useQuery({ queryKey: keys.plan, queryFn: async () => unwrap(await api.GET("/v1/plan")) });
  const upgrade = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/plan/upgrade")),
    onSuccess: () => void queryClient.invalidateQueries(),
  });
  if (!plan.data) return <Loading what="the plan" />;
  const trial = plan.data.trial;
  return (
    <section aria-labelledby="plan" className="card">
      <h2 id="plan">Plan</h2>
      <p>
        {trial
          ? trial.ended
            ? `The trial has ended (${trial.used} of ${trial.limit} sales synced); upgrade to sync the rest.`
            : `Trial: ${trial.used} of ${trial.limit} sales synced, until ${new Date(trial.ends_at).toLocaleDateString()}.`
          : "Pro: no limit on synced sales."}
        {plan.data.waiting > 0 ? ` ${plan.data.waiting} sales wait for an upgrade.` : ""}
      </p>
      {trial && me.data?.role === "owner" ? (
        <button type="button" onClick={() => upgrade.mutate()} disabled={upgrade.isPending}>
          Upgrade to Pro
        </button>
      ) : null}
      <ErrorNotice error={upgrade.error} />
    </section>
  );
}

// One line per Xero organisation: the day's calls against its day limit, and when the backlog is done.
function DayPlan({ connection }: { connection: Schemas["ConnectionOut"] }) {
  const plan = useQuery({
    queryKey: ["day-plan", connection.id],
    queryFn: async () =>
      unwrap(
        await api.GET("/v1/connections/{connection_id}/day-plan", {
          params: { path: { connection_id: connection.id } },
        }),
      ),
    refetchInterval: 5_000, // as the counts beside it
  });
  if (!plan.data) return null;
  const p = plan.data;
  return (
    <p data-day-plan={connection.id}>
      Xero {connection.name || "organisation"}: {p.calls_last_day} of {p.day_limit.toLocaleString()} calls
      used today.{" "}
      {p.done_by
        ? `${p.pending_documents} documents waiting; backlog done by ${formatDate(p.done_by)}.`
        : "Nothing waiting."}
    </p>
  );
}

function DayPlans() {
  const connections = useConnections();
  const xero = (connections.data ?? []).filter((c) => c.kind === "xero" && c.status === "active");
  if (!xero.length) return null;
  return (
    <>
      {xero.map((c) => (
        <DayPlan key={c.id} connection={c} />
      ))}
    </>
  );
}

function PollNow() {
  const queryClient = useQueryClient();
  const run = useMutation({
    mutationFn: async () => unwrap(await api.POST("/v1/sync/run", { body: { connection_id: null } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.syncStatus }),
  });
  return (
    <>
      <button type="button" className="secondary" onClick={() => run.mutate()} disabled={run.isPending}>
        Poll the sources now
      </button>
      {run.isSuccess ? (
        <StatusNotice>Polling {run.data.connection_ids.length} connections now.</StatusNotice>
      ) : null}
      <ErrorNotice error={run.error} />
    </>
  );
}

export function DashboardPage() {
  const status = useQuery({
    queryKey: keys.syncStatus,
    queryFn: async () => unwrap(await api.GET("/v1/sync/status")),
    refetchInterval: 5_000,
  });
  const setup = useQuery({ queryKey: keys.setup, queryFn: async () => unwrap(await api.GET("/v1/setup")) });
  return (
    <>
      <h1>Dashboard</h1>
      {setup.data && !setup.data.complete ? (
        <p className="notice">
          Setup: {setup.data.done} of {setup.data.steps.length} steps done.{" "}
          <Link to="/setup">Continue the setup</Link>
        </p>
      ) : null}
      <section aria-labelledby="counts" className="card">
        <h2 id="counts">Records by status</h2>
        {status.data ? (
          <dl className="counts">
            {["synced", "waiting", "failed", "skipped", "received", "mapped"].map((name) => (
              <div key={name}>
                <dt>
                  <Link to={`/records?status=${name}`}>{name}</Link>
                </dt>
                <dd data-status={name}>{status.data.records[name] ?? 0}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <Loading what="counts" />
        )}
        <ErrorNotice error={status.error} />
      </section>
      <section aria-labelledby="polling" className="card">
        <h2 id="polling">Connections</h2>
        {status.data?.connections.length ? <PollNow /> : null}
        <DayPlans />
        {status.data?.connections.length ? (
          <table>
            <caption className="visually-hidden">Polling per connection</caption>
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">Status</th>
                <th scope="col">Last poll</th>
                <th scope="col">Next poll</th>
                <th scope="col">Backlog</th>
              </tr>
            </thead>
            <tbody>
              {status.data.connections.map((c) => (
                <tr key={c.connection_id}>
                  <td>
                    {c.name} ({c.kind})
                  </td>
                  <td>
                    <StatusBadge status={c.status} />
                    {c.last_error ? <span className="field-error"> {c.last_error}</span> : null}
                  </td>
                  <td>{formatDate(c.last_polled_at)}</td>
                  <td>{formatDate(c.next_poll_at)}</td>
                  <td>{c.backlog}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <p>
            No connection yet. <Link to="/setup">Start the setup</Link>
          </p>
        )}
      </section>
      <section aria-labelledby="attention" className="card">
        <h2 id="attention">Needs attention</h2>
        <Attention />
      </section>
      <Plan />
    </>
  );
}
