import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap } from "../api/client";
import { useMeta, xeroHref } from "../api/queries";
import { ErrorNotice, formatDate, Loading, SelectField, StatusBadge, StatusNotice } from "../components/ui";

const STATUSES = ["received", "mapped", "synced", "skipped", "failed", "waiting"] as const;
type Status = (typeof STATUSES)[number];
const PAGE_SIZE = 50;

/** The moment a day ends (the API's ``until`` excludes it), for a ``YYYY-MM-DD`` date. */
function dayAfter(day: string): string {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

export function RecordsPage() {
  const [params, setParams] = useSearchParams();
  const status = (params.get("status") ?? "") as Status | "";
  const source = (params.get("source") ?? "") as "ontraport" | "onport" | "";
  const q = params.get("q") ?? "";
  const from = params.get("from") ?? "";
  const to = params.get("to") ?? "";
  const page = Number(params.get("page") ?? "1") || 1;
  const [search, setSearch] = useState(q);
  const meta = useMeta();
  const queryClient = useQueryClient();

  const records = useQuery({
    queryKey: ["records", status, source, q, from, to, page],
    queryFn: async () =>
      unwrap(
        await api.GET("/v1/records", {
          params: {
            query: {
              status: status || undefined,
              source: source || undefined,
              q: q || undefined,
              since: from ? `${from}T00:00:00Z` : undefined,
              until: to ? dayAfter(to) : undefined,
              page,
              page_size: PAGE_SIZE,
            },
          },
        }),
      ),
    placeholderData: (previous) => previous,
    refetchInterval: 5_000,
  });

  const set = (name: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    if (name !== "page") next.delete("page");
    setParams(next);
  };

  const retryable = (records.data?.items ?? []).some((r) => r.status === "failed" || r.status === "waiting");
  // One call retries every failed or waiting record the filters match, on every page.
  const bulk = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/v1/records/retry", {
          body: {
            status: status === "failed" || status === "waiting" ? [status] : ["failed", "waiting"],
            source: source || undefined,
          },
        }),
      ).queued,
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["records"] }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    set("q", search.trim());
  };
  const total = records.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <>
      <h1>Records</h1>
      <p>Every ONTRAPORT sale and Onport invoice read, newest first.</p>
      <form className="filters" onSubmit={submit} aria-label="Filter records">
        <SelectField
          label="Status"
          value={status}
          onChange={(v) => set("status", v)}
          placeholder="Any status"
          options={STATUSES.map((s) => ({ value: s, label: s }))}
        />
        <SelectField
          label="Source"
          value={source}
          onChange={(v) => set("source", v)}
          placeholder="Any source"
          options={[
            { value: "ontraport", label: "ONTRAPORT" },
            { value: "onport", label: "Onport" },
          ]}
        />
        <div className="field">
          <label htmlFor="record-from">Sold or invoiced from</label>
          <input id="record-from" type="date" value={from} onChange={(e) => set("from", e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="record-to">to</label>
          <input id="record-to" type="date" value={to} onChange={(e) => set("to", e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="record-search">Search</label>
          <input
            id="record-search"
            type="search"
            value={search}
            placeholder="Transaction id or reason"
            onChange={(e) => setSearch(e.target.value)}
          />
        </div>
        <button type="submit">Search</button>
      </form>
      {retryable ? (
        <p>
          <button type="button" onClick={() => bulk.mutate()} disabled={bulk.isPending}>
            {bulk.isPending ? "Retrying…" : "Retry every failed or waiting record these filters match"}
          </button>
        </p>
      ) : null}
      {bulk.data !== undefined ? <StatusNotice>{bulk.data} records queued to retry.</StatusNotice> : null}
      <ErrorNotice error={records.error ?? bulk.error} />
      {records.isPending ? (
        <Loading what="records" />
      ) : (
        <table className="records">
          <caption>
            {total} records{status ? `, ${status}` : ""}
            {source ? `, from ${source}` : ""}
            {q ? `, matching “${q}”` : ""}
          </caption>
          <thead>
            <tr>
              <th scope="col">Source id</th>
              <th scope="col">Source</th>
              <th scope="col">Date</th>
              <th scope="col">Status</th>
              <th scope="col">Reason</th>
              <th scope="col">Xero</th>
            </tr>
          </thead>
          <tbody>
            {(records.data?.items ?? []).map((record) => {
              const href = xeroHref(record.xero, meta.data);
              return (
                <tr key={record.id}>
                  <td>
                    <Link to={`/records/${record.id}`}>
                      {record.kind} {record.external_id}
                    </Link>
                  </td>
                  <td>{record.source}</td>
                  <td>{formatDate(record.source_date ?? record.created_at)}</td>
                  <td>
                    <StatusBadge status={record.status} />
                  </td>
                  <td>{record.reason ?? ""}</td>
                  <td>
                    {href ? (
                      <a href={href} target="_blank" rel="noreferrer">
                        {record.xero?.number ?? "Open in Xero"}
                      </a>
                    ) : (
                      ""
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <nav aria-label="Pages" className="pager">
        <button
          type="button"
          className="secondary"
          disabled={page <= 1}
          onClick={() => set("page", String(page - 1))}
        >
          Previous page
        </button>
        <span>
          Page {page} of {pages}
        </span>
        <button
          type="button"
          className="secondary"
          disabled={page >= pages}
          onClick={() => set("page", String(page + 1))}
        >
          Next page
        </button>
      </nav>
    </>
  );
}
