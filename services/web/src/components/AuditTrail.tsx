// Who changed this and when: the audit entries for one subject ("record:<id>", "settings", "mapping"…).
import { useInfiniteQuery } from "@tanstack/react-query";
import { api, unwrap, type Schemas } from "../api/client";
import { ErrorNotice, formatDate, Loading } from "./ui";

type Entry = Schemas["AuditEntryOut"];

function describe(value: Record<string, unknown> | null | undefined): string {
  if (!value) return "—";
  return Object.entries(value)
    .map(
      ([name, item]) =>
        `${name}: ${typeof item === "object" && item !== null ? JSON.stringify(item) : String(item)}`,
    )
    .join(", ");
}

function Change({ entry }: { entry: Entry }) {
  if (!entry.before && !entry.after) return null;
  return (
    <span className="muted">
      {" "}
      ({describe(entry.before)} → {describe(entry.after)})
    </span>
  );
}

export function AuditTrail({ subject, title = "Changes by people" }: { subject: string; title?: string }) {
  const headingId = `audit-${subject.replace(/[^a-z0-9]/gi, "-")}`;
  const entries = useInfiniteQuery({
    queryKey: ["audit", subject],
    initialPageParam: undefined as number | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(await api.GET("/v1/audit", { params: { query: { subject, limit: 20, before: pageParam } } })),
    getNextPageParam: (page) => page.next_before ?? undefined,
  });
  const items = entries.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="card" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      {entries.isPending ? <Loading what="the changes" /> : null}
      <ErrorNotice error={entries.error} />
      {entries.isSuccess && items.length === 0 ? <p>No changes by people yet.</p> : null}
      <ol className="timeline" aria-label={title}>
        {items.map((entry) => (
          <li key={entry.id}>
            <time dateTime={entry.created_at}>{formatDate(entry.created_at)}</time>: {entry.user_email}{" "}
            <strong>{entry.action.replace(/[._]/g, " ")}</strong>
            {entry.subject === subject ? "" : ` ${entry.subject}`}
            <Change entry={entry} />
          </li>
        ))}
      </ol>
      {entries.hasNextPage ? (
        <button
          type="button"
          className="secondary"
          onClick={() => void entries.fetchNextPage()}
          disabled={entries.isFetchingNextPage}
        >
          Show older changes
        </button>
      ) : null}
    </section>
  );
}
