// Rollback: choose a set of records (an import or a date range), see the dry run (what happens to each
// Xero document), confirm, then follow the records as they return to a state a re-sync starts from.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { api, unwrap, type Schemas } from "../api/client";
import { ErrorNotice, Loading, SelectField, StatusBadge, StatusNotice, TextField } from "../components/ui";

type Selection = Schemas["RollbackSelection"];
type Plan = Schemas["RollbackPlan"];

const ACTIONS: Record<string, string> = {
  delete_payment: "Payment deleted",
  void: "Voided",
  delete: "Draft deleted",
  keep: "Left in Xero",
  none: "Already undone",
};

function dayAfter(day: string): string {
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString();
}

function PlanTable({ plan }: { plan: Plan }) {
  return (
    <table aria-label="What happens to each record">
      <thead>
        <tr>
          <th scope="col">Record</th>
          <th scope="col">Outcome</th>
          <th scope="col">Documents in Xero</th>
        </tr>
      </thead>
      <tbody>
        {plan.records.map((record) => (
          <tr key={record.record_id}>
            <td>
              <Link to={`/records/${record.record_id}`}>
                {record.source} {record.external_id}
              </Link>
            </td>
            <td>
              <StatusBadge status={record.outcome} /> {record.reason}
            </td>
            <td>
              <ul className="plain">
                {record.documents.map((document) => (
                  <li key={document.document_id}>
                    {document.kind.replace(/_/g, " ")} {document.number ?? ""}:{" "}
                    <strong>{ACTIONS[document.action]}</strong>
                    {" — "}
                    {document.note}
                  </li>
                ))}
              </ul>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function RollbackPage() {
  const queryClient = useQueryClient();
  const [by, setBy] = useState<"import" | "dates">("import");
  const [importId, setImportId] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [confirmed, setConfirmed] = useState(false);

  const imports = useQuery({
    queryKey: ["imports"],
    queryFn: async () => unwrap(await api.GET("/v1/imports")).items,
  });
  const selection = (): Selection =>
    by === "import"
      ? { import_id: importId || null }
      : { since: from ? `${from}T00:00:00Z` : null, until: to ? dayAfter(to) : null };

  const dryRun = useMutation({
    mutationFn: async (wanted: Selection) =>
      unwrap(await api.POST("/v1/rollbacks/dry-run", { body: wanted })),
    onSuccess: () => setConfirmed(false),
  });
  const run = useMutation({
    mutationFn: async (wanted: Selection) =>
      unwrap(await api.POST("/v1/rollbacks", { body: { ...wanted, confirm: true } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ["records"] }),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    run.reset();
    dryRun.mutate(selection());
  };
  const plan = dryRun.data;

  return (
    <>
      <h1>Roll back</h1>
      <p className="muted">
        Undo what ledgerbridge made in Xero for a set of records: payments are deleted first, approved
        invoices, bills and credit notes voided (renumbered, so a re-sync can use their number), drafts
        deleted. Contacts stay. A document changed in Xero, or reconciled there, is left alone with its
        record. Nothing changes until you confirm.
      </p>
      <form onSubmit={submit} aria-label="Records to roll back">
        <SelectField
          label="Choose records by"
          value={by}
          onChange={(v) => setBy(v === "dates" ? "dates" : "import")}
          options={[
            { value: "import", label: "An import" },
            { value: "dates", label: "A date range" },
          ]}
        />
        {by === "import" ? (
          imports.isPending ? (
            <Loading what="imports" />
          ) : (
            <SelectField
              label="Import"
              value={importId}
              onChange={setImportId}
              options={(imports.data ?? []).map((job) => ({
                value: job.id,
                label: `${new Date(job.created_at).toLocaleString()} · ${JSON.stringify(job.params)} · ${job.done} records`,
              }))}
              hint="The records the import brought in"
            />
          )
        ) : (
          <div className="filters">
            <TextField
              label="From"
              type="date"
              value={from}
              onChange={setFrom}
              hint="The sale's or invoice's own date"
            />
            <TextField label="To" type="date" value={to} onChange={setTo} />
          </div>
        )}
        <button type="submit" disabled={dryRun.isPending}>
          {dryRun.isPending ? "Reading Xero…" : "Show what would happen"}
        </button>
      </form>
      <ErrorNotice error={dryRun.error} />
      {plan ? (
        <section aria-labelledby="dry-run-title">
          <h2 id="dry-run-title">Dry run</h2>
          <StatusNotice>
            {plan.matched} record(s) matched: {plan.undo} would be undone, {plan.left_alone} left alone
            {plan.remaining ? `; ${plan.remaining} more after these (run again)` : ""}.
          </StatusNotice>
          <PlanTable plan={plan} />
          {plan.undo > 0 && !run.data ? (
            <div className="confirm">
              <div className="checkbox">
                <input
                  id="rollback-confirm"
                  type="checkbox"
                  checked={confirmed}
                  onChange={(e) => setConfirmed(e.target.checked)}
                />
                <label htmlFor="rollback-confirm">
                  I understand this voids and deletes {plan.undo} record(s)&apos; documents in Xero
                </label>
              </div>
              <button
                type="button"
                className="danger"
                disabled={!confirmed || run.isPending}
                onClick={() => run.mutate(selection())}
              >
                {run.isPending ? "Rolling back…" : `Roll back ${plan.undo} record(s)`}
              </button>
            </div>
          ) : null}
        </section>
      ) : null}
      <ErrorNotice error={run.error} />
      {run.data ? (
        <StatusNotice>
          Rollback under way: {run.data.queued_documents} change(s) queued for Xero for {run.data.undo}{" "}
          record(s)
          {run.data.left_alone ? `, ${run.data.left_alone} left alone` : ""}. Each record then waits as
          &ldquo;rolled back&rdquo;: <Link to="/records?status=waiting">retry them on the Records page</Link>{" "}
          to sync them again.
        </StatusNotice>
      ) : null}
    </>
  );
}
