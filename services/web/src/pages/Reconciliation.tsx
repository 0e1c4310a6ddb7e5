// The reconciliation report: the source's totals beside what Xero holds now, a chart of both per day
// (an SVG with a table alternative), every difference with its cause and links, and CSV downloads.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { getAccessToken } from "../api/session";
import { ErrorNotice, Loading, SelectField, StatusNotice, TextField } from "../components/ui";

type Day = Schemas["ReportDay"];
type GroupBy = "day" | "week" | "month";

const CAUSES: Record<string, string> = {
  waiting: "Waiting",
  failed: "Failed",
  in_progress: "On its way",
  skipped: "Skipped",
  rolled_back: "Rolled back",
  voided_in_xero: "Voided in Xero",
  deleted_in_xero: "Deleted in Xero",
  amount_edited_in_xero: "Edited in Xero",
  not_read: "Not read from Xero",
  amounts_differ: "Amounts differ",
};

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}

function defaultPeriod(): { from: string; to: string } {
  const to = new Date();
  const from = new Date(to);
  from.setUTCDate(from.getUTCDate() - 29);
  return { from: isoDay(from), to: isoDay(to) };
}

function money(value: string | number): string {
  return Number(value).toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
}

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { left: 64, right: 12, top: 12, bottom: 28 };

/** Source (bars) and Xero (line and dots) per day for one currency; the table below carries the figures. */
function DayChart({ days, currency }: { days: Day[]; currency: string }) {
  const top = Math.max(1, ...days.flatMap((d) => [Number(d.source_amount), Number(d.xero_amount)]));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const step = plotWidth / Math.max(days.length, 1);
  const y = (value: number) => PAD.top + plotHeight - (value / top) * plotHeight;
  const x = (index: number) => PAD.left + index * step + step / 2;
  const line = days.map(
    (d, i) => `${i === 0 ? "M" : "L"}${x(i).toFixed(1)},${y(Number(d.xero_amount)).toFixed(1)}`,
  );
  const differing = days.filter((d) => d.source_amount !== d.xero_amount).length;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby="chart-title chart-desc"
        preserveAspectRatio="xMidYMid meet"
      >
        <title id="chart-title">{`Source and Xero per day, ${currency}`}</title>
        <desc id="chart-desc">
          {`${days.length} days; bars are the source's charges and vendor invoices, the line is what Xero holds. ` +
            `${differing} day(s) differ. The table after the chart lists every figure.`}
        </desc>
        {[0, 0.5, 1].map((fraction) => (
          <g key={fraction}>
            <line
              className="chart-grid"
              x1={PAD.left}
              x2={WIDTH - PAD.right}
              y1={y(top * fraction)}
              y2={y(top * fraction)}
            />
            <text className="chart-axis" x={PAD.left - 6} y={y(top * fraction) + 4} textAnchor="end">
              {money(top * fraction)}
            </text>
          </g>
        ))}
        {days.map((d, i) => {
          const height = (Number(d.source_amount) / top) * plotHeight;
          return (
            <rect
              key={d.day}
              className="chart-source"
              x={x(i) - step * 0.35}
              width={step * 0.7}
              y={PAD.top + plotHeight - height}
              height={height}
            />
          );
        })}
        <path className="chart-xero" d={line.join(" ")} fill="none" />
        {days.map((d, i) => (
          <circle key={d.day} className="chart-xero-dot" cx={x(i)} cy={y(Number(d.xero_amount))} r={3} />
        ))}
        {days.length > 0 ? (
          <>
            <text className="chart-axis" x={x(0)} y={HEIGHT - 8} textAnchor="middle">
              {days[0]?.day}
            </text>
            <text className="chart-axis" x={x(days.length - 1)} y={HEIGHT - 8} textAnchor="middle">
              {days[days.length - 1]?.day}
            </text>
          </>
        ) : null}
      </svg>
      <figcaption>
        <span className="legend legend-source">Source</span> <span className="legend legend-xero">Xero</span>
      </figcaption>
    </figure>
  );
}

async function download(query: Record<string, string>, name: string): Promise<void> {
  // A link cannot carry the access token: fetch the CSV, then hand it to the browser as a file.
  const response = await fetch(`/v1/reports/reconciliation?${new URLSearchParams(query).toString()}`, {
    headers: { Authorization: `Bearer ${getAccessToken() ?? ""}`, Accept: "text/csv" },
  });
  if (!response.ok)
    throw new Error(`The CSV could not be made (${response.status}): ${await response.text()}`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  URL.revokeObjectURL(url);
}

export function ReconciliationPage() {
  const [params, setParams] = useSearchParams();
  const fallback = defaultPeriod();
  const from = params.get("from") ?? fallback.from;
  const to = params.get("to") ?? fallback.to;
  const groupBy = (params.get("group_by") ?? "day") as GroupBy;
  const [draft, setDraft] = useState({ from, to, groupBy });
  const [currency, setCurrency] = useState("");

  const report = useQuery({
    queryKey: ["reconciliation", from, to, groupBy],
    // JSON unless CSV is asked for: the endpoint's text/csv answer is the download below.
    queryFn: async () =>
      unwrap(
        await api.GET("/v1/reports/reconciliation", { params: { query: { from, to, group_by: groupBy } } }),
      ) as Schemas["Reconciliation"],
    retry: false,
    // What Xero holds changes behind the app's back: each visit asks again (the server caches Xero's copy).
    staleTime: 0,
    refetchOnMount: "always",
  });
  const csv = useMutation({
    mutationFn: async (table: "summary" | "differences") =>
      download(
        { from, to, group_by: groupBy, format: "csv", table },
        `reconciliation-${from}-${to}${table === "differences" ? "-differences" : ""}.csv`,
      ),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    setParams({ from: draft.from, to: draft.to, group_by: draft.groupBy });
  };
  const data = report.data;
  const currencies = [...new Set((data?.days ?? []).map((d) => d.currency))];
  const shown = currency && currencies.includes(currency) ? currency : (currencies[0] ?? "");
  const days = (data?.days ?? []).filter((d) => d.currency === shown);

  return (
    <>
      <h1>Reconciliation</h1>
      <p className="muted">
        The source&apos;s totals beside what Xero holds now (voided documents count for nothing). Xero&apos;s
        copy is read in bulk and cached; a Xero webhook marks a changed document for re-reading.
      </p>
      <form className="filters" onSubmit={submit} aria-label="Report period">
        <TextField
          label="From"
          type="date"
          value={draft.from}
          onChange={(v) => setDraft({ ...draft, from: v })}
          required
        />
        <TextField
          label="To"
          type="date"
          value={draft.to}
          onChange={(v) => setDraft({ ...draft, to: v })}
          required
        />
        <SelectField
          label="Rows per"
          value={draft.groupBy}
          onChange={(v) => setDraft({ ...draft, groupBy: (v || "day") as GroupBy })}
          options={[
            { value: "day", label: "Day" },
            { value: "week", label: "Week" },
            { value: "month", label: "Month" },
          ]}
        />
        <button type="submit">Show report</button>
      </form>
      {report.isPending ? <Loading what="the report" /> : null}
      <ErrorNotice error={report.error} />
      {data ? (
        <>
          <StatusNotice>
            {data.differences.length === 0
              ? "Everything adds up: the source and Xero agree."
              : `${data.differences.length} difference(s) between the source and Xero.`}{" "}
            Xero: {data.xero.read} document(s) read in {data.xero.calls} call(s), {data.xero.cached} from the
            cache
            {data.xero.not_read ? `, ${data.xero.not_read} not read (run the report again)` : ""}.
          </StatusNotice>
          <div className="actions">
            <button
              type="button"
              className="secondary"
              onClick={() => csv.mutate("summary")}
              disabled={csv.isPending}
            >
              Download CSV
            </button>
            <button
              type="button"
              className="secondary"
              onClick={() => csv.mutate("differences")}
              disabled={csv.isPending}
            >
              Download differences (CSV)
            </button>
          </div>
          <ErrorNotice error={csv.error} />

          <h2>Per day</h2>
          {currencies.length > 1 ? (
            <SelectField
              label="Currency"
              value={shown}
              onChange={setCurrency}
              options={currencies.map((c) => ({ value: c, label: c }))}
            />
          ) : null}
          {days.length ? (
            <DayChart days={days} currency={shown} />
          ) : (
            <p className="muted">No sales or invoices in this period.</p>
          )}
          {days.length ? (
            <table aria-label={`Per day, ${shown}`}>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col" className="number">
                    Source
                  </th>
                  <th scope="col" className="number">
                    Xero
                  </th>
                  <th scope="col" className="number">
                    Difference
                  </th>
                </tr>
              </thead>
              <tbody>
                {days.map((d) => (
                  <tr key={d.day}>
                    <th scope="row">{d.day}</th>
                    <td className="number">{money(d.source_amount)}</td>
                    <td className="number">{money(d.xero_amount)}</td>
                    <td className="number">{money(Number(d.xero_amount) - Number(d.source_amount))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}

          <h2>Totals</h2>
          <table aria-label="Totals per period, gateway and currency">
            <thead>
              <tr>
                <th scope="col">Period</th>
                <th scope="col">Source</th>
                <th scope="col">Gateway</th>
                <th scope="col">Currency</th>
                <th scope="col">Figure</th>
                <th scope="col" className="number">
                  Source (count, amount)
                </th>
                <th scope="col" className="number">
                  Xero (count, amount)
                </th>
                <th scope="col" className="number">
                  Difference
                </th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((row) => (
                <tr key={`${row.period}-${row.source}-${row.gateway}-${row.currency}-${row.figure}`}>
                  <td>{row.period}</td>
                  <td>{row.source}</td>
                  <td>{row.gateway}</td>
                  <td>{row.currency}</td>
                  <td>{row.figure}</td>
                  <td className="number">
                    {row.source_count} · {money(row.source_amount)}
                  </td>
                  <td className="number">
                    {row.xero_count} · {money(row.xero_amount)}
                  </td>
                  <td className={`number${Number(row.difference) !== 0 ? " differs" : ""}`}>
                    {money(row.difference)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>

          <h2>Differences</h2>
          {data.differences.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <table aria-label="Differences">
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Record</th>
                  <th scope="col">Figure</th>
                  <th scope="col" className="number">
                    Source
                  </th>
                  <th scope="col" className="number">
                    Xero
                  </th>
                  <th scope="col">Cause</th>
                  <th scope="col">In Xero</th>
                </tr>
              </thead>
              <tbody>
                {data.differences.map((d) => (
                  <tr key={`${d.record_id}-${d.figure}`}>
                    <td>{d.day}</td>
                    <td>
                      <Link to={d.record_url}>
                        {d.source} {d.external_id}
                      </Link>
                    </td>
                    <td>{d.figure}</td>
                    <td className="number">{money(d.source_amount)}</td>
                    <td className="number">{money(d.xero_amount)}</td>
                    <td>
                      <strong>{CAUSES[d.cause] ?? d.cause}</strong>: {d.detail}
                    </td>
                    <td>
                      {d.xero_url ? (
                        <a href={d.xero_url} target="_blank" rel="noreferrer">
                          Open {d.document_number ?? "document"} in Xero
                        </a>
                      ) : (
                        "—"
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p>
            <Link to="/rollback">Roll back a set of records…</Link>
          </p>
        </>
      ) : null}
    </>
  );
}
