import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useParams } from "react-router";
import { api, unwrap } from "../api/client";
import { useMeta, xeroHref } from "../api/queries";
import { AuditTrail } from "../components/AuditTrail";
import { ErrorNotice, formatDate, Loading, StatusBadge, StatusNotice } from "../components/ui";

export function RecordPage() {
  const { recordId = "" } = useParams();
  const meta = useMeta();
  const queryClient = useQueryClient();
  const record = useQuery({
    queryKey: ["record", recordId],
    queryFn: async () =>
      unwrap(await api.GET("/v1/records/{record_id}", { params: { path: { record_id: recordId } } })),
    refetchInterval: 5_000,
  });
  const preview = useQuery({
    queryKey: ["record-preview", recordId],
    queryFn: async () =>
      unwrap(await api.GET("/v1/records/{record_id}/preview", { params: { path: { record_id: recordId } } })),
  });
  const retry = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/v1/records/{record_id}/retry", { params: { path: { record_id: recordId } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["record", recordId] }),
  });
  if (record.isPending) return <Loading what="the record" />;
  if (record.error) return <ErrorNotice error={record.error} />;
  const data = record.data;
  const canRetry = data.status === "failed" || data.status === "waiting";
  return (
    <>
      <p>
        <Link to="/records">← All records</Link>
      </p>
      <h1>
        {data.source === "onport" ? "Onport" : "ONTRAPORT"} {data.kind.replace(/_/g, " ")} {data.external_id}
      </h1>
      <p>
        <StatusBadge status={data.status} /> {data.reason ?? ""}
      </p>
      {canRetry ? (
        <button type="button" onClick={() => retry.mutate()} disabled={retry.isPending}>
          Retry
        </button>
      ) : null}
      {retry.isSuccess ? <StatusNotice>Queued to retry.</StatusNotice> : null}
      <ErrorNotice error={retry.error} />
      <section className="card" aria-labelledby="documents">
        <h2 id="documents">Xero documents</h2>
        {data.documents.length === 0 ? <p>None sent yet.</p> : null}
        <ul>
          {data.documents.map((doc) => {
            const href = xeroHref(
              {
                document_id: doc.id,
                kind: doc.kind,
                status: doc.status,
                number: doc.xero_number ?? null,
                xero_id: doc.xero_id ?? null,
                url: doc.url ?? null,
              },
              meta.data,
            );
            return (
              <li key={doc.id}>
                {doc.kind.replace(/_/g, " ")} {doc.xero_number ?? ""} <StatusBadge status={doc.status} />
                {doc.amount ? ` ${doc.amount}` : ""}
                {href && (doc.kind === "invoice" || doc.kind === "bill") ? (
                  <>
                    {" "}
                    <a href={href} target="_blank" rel="noreferrer">
                      Open {doc.kind} {doc.xero_number ?? ""} in Xero
                    </a>
                  </>
                ) : null}
                {doc.last_error ? <span className="field-error"> {doc.last_error}</span> : null}
              </li>
            );
          })}
        </ul>
      </section>
      <section className="card" aria-labelledby="history">
        <h2 id="history">History</h2>
        <ol className="timeline">
          {data.history.map((event, index) => (
            <li key={index}>
              <time dateTime={event.created_at}>{formatDate(event.created_at)}</time>:{" "}
              {event.from_status ?? "new"} → <StatusBadge status={event.to_status} /> {event.reason ?? ""}
            </li>
          ))}
        </ol>
      </section>
      <AuditTrail subject={`record:${data.id}`} title="Changes by people (retries)" />
      <section className="card" aria-labelledby="preview">
        <h2 id="preview">What would be sent now</h2>
        {preview.isPending ? <Loading what="the preview" /> : null}
        <ErrorNotice error={preview.error} />
        {preview.data ? (
          <>
            <p>
              Decision: <strong>{preview.data.decision}</strong> {preview.data.reason ?? ""}
            </p>
            {(preview.data.documents ?? []).map((doc) => (
              <details key={doc.fingerprint}>
                <summary>
                  {doc.kind} {doc.stored_status ? `(stored: ${doc.stored_status})` : "(not stored)"}
                </summary>
                <pre>{JSON.stringify(doc.body, null, 2)}</pre>
              </details>
            ))}
          </>
        ) : null}
      </section>
    </>
  );
}
