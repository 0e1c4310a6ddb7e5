import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { keys, useConnections, useMe } from "../api/queries";
import { ErrorNotice, formatDate, Loading, StatusBadge } from "../components/ui";
import { AuditTrail } from "../components/AuditTrail";

export async function startXeroConsent(): Promise<void> {
  const answer = unwrap(await api.POST("/v1/connections/xero"));
  window.location.assign(answer.authorize_url);
}

function explain(connection: Schemas["ConnectionOut"]): string {
  if (connection.status === "error") {
    return connection.kind === "xero"
      ? `Xero consent has expired or was withdrawn${connection.last_error ? ` (${connection.last_error})` : ""}: reconnect.`
      : (connection.last_error ?? "The last call failed.");
  }
  if (connection.status === "pending") return "Consent given; choose the organisation in the setup.";
  if (connection.status === "disconnected") return "Disconnected: nothing is read or written.";
  return "Working.";
}

export function ConnectionsPage() {
  const connections = useConnections();
  const me = useMe();
  const owner = me.data?.role === "owner";
  const queryClient = useQueryClient();
  const reconnect = useMutation({ mutationFn: startXeroConsent });
  const disconnect = useMutation({
    mutationFn: async (id: string) =>
      unwrap(
        await api.DELETE("/v1/connections/{connection_id}", { params: { path: { connection_id: id } } }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: keys.connections }),
  });
  if (connections.isPending) return <Loading what="connections" />;
  return (
    <>
      <h1>Connections</h1>
      {!owner ? (
        <p className="notice" role="note">
          You are a bookkeeper on this account: you can see the connections, but only an owner can connect,
          reconnect or disconnect them.
        </p>
      ) : null}
      <ErrorNotice error={connections.error ?? reconnect.error ?? disconnect.error} />
      <table>
        <caption className="visually-hidden">Connections</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Since</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {(connections.data ?? []).map((connection) => (
            <tr key={connection.id}>
              <td>{connection.name}</td>
              <td>{connection.kind}</td>
              <td>
                <StatusBadge status={connection.status} /> {explain(connection)}
              </td>
              <td>{formatDate(connection.created_at)}</td>
              <td className="actions">
                {owner && connection.kind === "xero" && connection.status !== "active" ? (
                  <button type="button" onClick={() => reconnect.mutate()}>
                    Reconnect {connection.name}
                  </button>
                ) : null}
                {owner && connection.status !== "disconnected" ? (
                  <button
                    type="button"
                    className="danger"
                    onClick={() => {
                      if (window.confirm(`Disconnect ${connection.name}? Syncing through it stops.`)) {
                        disconnect.mutate(connection.id);
                      }
                    }}
                  >
                    Disconnect {connection.name}
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {owner ? (
        <p>
          <button type="button" className="secondary" onClick={() => reconnect.mutate()}>
            Add a Xero organisation
          </button>
        </p>
      ) : null}
      <AuditTrail subject="connection" />
    </>
  );
}
