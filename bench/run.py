"""``make bench``: ledgerbridge's throughput against SPEC.md §7's call budget, printed as figures.

1. The pipeline at Xero's real limits (60 calls a minute, 5 at a time, ~150 ms ± 100 ms a call): a
   backlog of ONTRAPORT transactions through the poller, mapper and publisher as real processes, once
   for new customers and once for customers already in Xero; then idle polls.
2. The mapping core alone on one core.
3. The web app: first-load JavaScript (gzipped) and the records page's first page with 10,000 records.
4. Summary mode: a day of ~1,000 sales as daily summaries, and its Xero calls per transaction.

Run as ``python -m bench`` or ``python bench/run.py``; ``--help`` for the knobs.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:  # `python bench/run.py`, and `tests.e2e.harness` either way
    sys.path.insert(0, str(REPO_ROOT))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from collections.abc import AsyncIterator  # noqa: E402
from contextlib import asynccontextmanager  # noqa: E402
from types import FrameType  # noqa: E402

from sqlalchemy.engine import make_url  # noqa: E402

from bench.infra import scratch_database, servers  # noqa: E402
from bench.latency import P95_GOAL_SECONDS, LatencyFigures, run_latency  # noqa: E402
from bench.many_orgs import CALLS_PER_MINUTE_LIMIT, ManyOrgsFigures, run_many_orgs  # noqa: E402
from bench.many_tenants import CYCLE_GOAL_SECONDS, ManyTenantsFigures, run_many_tenants  # noqa: E402
from bench.mapper_core import MapperFigures, run_mapper  # noqa: E402
from bench.mapper_service import MapperServiceFigures, run_mapper_service  # noqa: E402
from bench.pipeline import (  # noqa: E402
    PIPELINE_SCENARIOS,
    PipelineFigures,
    PipelineOptions,
    ScenarioFigures,
    run_pipeline,
)
from bench.summary_mode import CALLS_PER_TRANSACTION_GOAL, SummaryFigures, run_summary_mode  # noqa: E402
from bench.web import BundleFigures, RecordsFigures, first_load, seed_records, time_records_page  # noqa: E402

SECRET_SETTINGS = ("ENCRYPTION_KEYS", "SECRET_KEY", "XERO_CLIENT_SECRET")
CEILINGS = {"new customers": 1000, "known customers": 1500}  # SPEC.md §7, per organisation per minute
# Issue 12's goals, per figure of the summary.
GOALS = {
    "new customers: transactions/min/org": 950,
    "known customers: transactions/min/org": 1450,
    "known customers: documents per invoice batch": 49.5,
    "mapper service: records/s, one process": 1000,
}
SCENARIOS: tuple[str, ...] = (*PIPELINE_SCENARIOS, "mapper-service", "mapper-core", "summary-mode", "web")
SCENARIOS += ("latency", "many-orgs", "many-tenants")
FIRST_LOAD_GOAL_KB = 250  # issue 11
RECORDS_PAGE_GOAL_MS = 300
MAPPER_SERVICE_RUNS = 3


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--transactions", type=int, default=3000, help="backlog per scenario (default 3000)")
    parser.add_argument("--mapper-transactions", type=int, default=5000, help="mapper core input (5000)")
    parser.add_argument("--latency-ms", type=float, default=150, help="Xero sandbox mean latency (150)")
    parser.add_argument("--jitter-ms", type=float, default=100, help="± around the mean (100)")
    parser.add_argument("--skip-pipeline", action="store_true", help="only the mapper core")
    parser.add_argument("--skip-mapper", action="store_true", help="only the pipeline")
    parser.add_argument("--skip-web", action="store_true", help="no web app figures")
    parser.add_argument("--web-records", type=int, default=10_000, help="records behind the records page")
    parser.add_argument("--summary-transactions", type=int, default=1000, help="summary mode's day (1000)")
    parser.add_argument("--skip-summary", action="store_true", help="no summary mode scenario")
    parser.add_argument("--latency-sales", type=int, default=200, help="latency: sales (200)")
    parser.add_argument(
        "--latency-interval", type=float, default=0.5, help="latency: seconds between sales (0.5)"
    )
    parser.add_argument("--organisations", type=int, default=10, help="many-orgs: organisations (10)")
    parser.add_argument(
        "--org-transactions", type=int, default=1000, help="many-orgs: transactions per organisation (1000)"
    )
    parser.add_argument("--skip-many-orgs", action="store_true", help="no many-orgs scenario")
    parser.add_argument(
        "--latency-orgs", type=int, default=1, help="latency: organisations the sales are dealt to (1)"
    )
    parser.add_argument("--skip-latency", action="store_true", help="no latency scenario")
    parser.add_argument("--tenants", type=int, default=10_000, help="many-tenants: connections (10000)")
    parser.add_argument("--skip-many-tenants", action="store_true", help="no many-tenants scenario")
    parser.add_argument("--keep-logs", action="store_true", help="keep the workers' logs and print where")
    parser.add_argument(
        "--scenario",
        action="append",
        choices=SCENARIOS,
        help="run only this part (repeatable); known-customers and idle-polls run after new-customers",
    )
    arguments = parser.parse_args(argv)
    if arguments.scenario:
        chosen = set(arguments.scenario)
        arguments.skip_web = arguments.skip_web or "web" not in chosen
        arguments.skip_mapper = arguments.skip_mapper or "mapper-core" not in chosen
        arguments.skip_summary = arguments.skip_summary or "summary-mode" not in chosen
        arguments.pipeline_scenarios = frozenset(chosen & set(PIPELINE_SCENARIOS))
        arguments.skip_pipeline = arguments.skip_pipeline or not arguments.pipeline_scenarios
        arguments.mapper_service = "mapper-service" in chosen
        arguments.skip_latency = arguments.skip_latency or "latency" not in chosen
        arguments.skip_many_orgs = arguments.skip_many_orgs or "many-orgs" not in chosen
        arguments.skip_many_tenants = arguments.skip_many_tenants or "many-tenants" not in chosen
    else:
        arguments.pipeline_scenarios = frozenset(PIPELINE_SCENARIOS)
        arguments.mapper_service = not arguments.skip_pipeline
    return arguments


def _shown(name: str, value: str) -> str:
    if name in SECRET_SETTINGS:
        return "<bench's own>"
    if name in ("DATABASE_URL", "REDIS_URL") and "://" in value:
        try:
            return make_url(value).render_as_string(hide_password=True)
        except Exception:
            return value
    return value


def _print_pipeline(figures: PipelineFigures) -> None:
    print("\n== Pipeline at Xero's real limits ==")
    print("Worker settings changed from the defaults (everything else is default):")
    for name, value in sorted(figures.settings_changed.items()):
        print(f"  {name}={_shown(name, value)}")
    for scenario in figures.scenarios:
        _print_scenario(scenario)
    if figures.idle_poll_calls:
        print("\nIdle polls (nothing new in ONTRAPORT):")
        print(f"  ONTRAPORT calls per poll: {figures.idle_poll_calls} (target ≤ 1)")
        print(f"  Xero calls during them: {figures.idle_poll_xero_calls}")
    print(f"Pipeline bench took {figures.seconds:.0f} s")
    if figures.log_dir:
        print(f"Worker logs: {figures.log_dir}")


def _print_scenario(s: ScenarioFigures) -> None:
    print(f"\n-- {s.name} --")
    print(f"  ONTRAPORT transactions: {s.source_records}; record statuses: {s.statuses}")
    print(f"  sent to Xero: {s.invoices} invoices, {s.payments} payments, {s.contacts_created} new contacts")
    print(
        f"  first → last create call: {s.span_seconds:.1f} s; handed over → settled: {s.wall_seconds:.1f} s"
    )
    print(
        f"  throughput: {s.per_minute:.0f} transactions/minute/organisation "
        f"(SPEC ceiling {CEILINGS.get(s.name, 0)}; 60 calls/min at the measured call mix buys "
        f"{s.ceiling_at_this_mix:.0f})"
    )
    print(
        f"  Xero calls: {s.total_calls} = {s.calls_per_transaction:.4f} per transaction"
        f" ({s.calls_per_50:.2f} per 50); 429s: {s.rate_limited}"
    )
    print(
        f"  this mix's floor: {s.floor_calls} calls ({s.floor_per_50:.2f} per 50): {s.contacts_created} contacts, "
        f"{s.invoices} invoices, {s.payments - s.refund_payments} payments, {s.credit_notes} credit notes and "
        f"{s.refund_payments} refund payments in batches of 50, each reference endpoint read once"
    )
    print(
        f"  read from Xero: {s.bytes_received:,} bytes ({s.bytes_per_transaction:,.0f} per transaction),"
        f" {s.get_bytes:,} of them GET answers"
    )
    print(f"  active contact names unique: {s.names_unique}; invoices on another buyer's contact: {s.merged}")
    for endpoint, calls in sorted(s.calls.items()):
        print(
            f"    {endpoint:<22} {calls:5d}  ({calls / s.invoices if s.invoices else 0:.4f} per transaction)"
        )
    print(
        f"  Xero calls per minute over that span: {s.calls_per_minute:.1f} (a rolling 60-call minute lets the"
        " first minute's calls go at once, so a short span reads above 60 and above the ceiling)"
    )
    invoice_calls = s.calls.get("PUT Invoices", 0) + s.calls.get("POST Invoices", 0)
    payment_calls = s.calls.get("PUT Payments", 0) + s.calls.get("POST Payments", 0)
    if invoice_calls:
        print(f"  average invoices per invoice call: {s.invoices / invoice_calls:.1f} (batch size 50)")
    if payment_calls:
        print(f"  average payments per payment call: {s.payments / payment_calls:.1f}")


def _print_mapper(figures: MapperFigures) -> None:
    print("\n== Mapper core (map_transaction, one core) ==")
    print(f"  {figures.transactions} generated ONTRAPORT transactions; decisions {dict(figures.decisions)}")
    print(f"  documents decided: {dict(figures.documents)}")
    print(
        f"  {figures.per_second:,.0f} transactions/second (median of runs; best {figures.best_per_second:,.0f}),"
        f" {figures.microseconds_each:.0f} µs each"
    )


def _print_web(bundle: BundleFigures | None, records: RecordsFigures | None) -> None:
    print("\n== Web app ==")
    if bundle is not None:
        print(
            f"  first load: {bundle.js_files} JavaScript file(s), {bundle.js_bytes / 1024:.0f} KB,"
            f" {bundle.js_gzipped / 1024:.1f} KB gzipped (goal ≤ {FIRST_LOAD_GOAL_KB} KB);"
            f" CSS {bundle.css_gzipped / 1024:.1f} KB gzipped"
        )
    if records is not None:
        print(f"  records page, {records.records:,} records, first 50 rows on screen:")
        print(f"    clicking Records in the app: {', '.join(f'{t:.0f}' for t in records.in_app_ms)} ms")
        print(f"    loading /records afresh:     {', '.join(f'{t:.0f}' for t in records.reload_ms)} ms")


def _web_rows(bundle: BundleFigures | None, records: RecordsFigures | None) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    if bundle is not None:
        rows.append(
            (
                "web: first-load JS gzipped",
                f"{bundle.js_gzipped / 1024:.1f} KB",
                f"goal ≤ {FIRST_LOAD_GOAL_KB} KB",
            )
        )
    if records is not None:
        goal = f"goal ≤ {RECORDS_PAGE_GOAL_MS} ms"
        rows.append(
            (f"web: records page ({records.records:,}), in app", f"{records.in_app_median:.0f} ms", goal)
        )
        rows.append(
            (f"web: records page ({records.records:,}), fresh load", f"{records.reload_median:.0f} ms", goal)
        )
    return rows


def _web(arguments: argparse.Namespace) -> tuple[BundleFigures | None, RecordsFigures | None]:
    from ledgerbridge.api.app import create_app
    from ledgerbridge.common.settings import Settings
    from ledgerbridge.sandbox.server import serve_in_thread

    if not (REPO_ROOT / "services" / "web" / "dist" / "index.html").is_file():
        print("  the web app is not built (make web-build): no web figures", file=sys.stderr)
        return None, None
    bundle = first_load()
    if not Path("/usr/bin/chromium").exists():
        print("  no /usr/bin/chromium (apt-get install chromium): no records page figure", file=sys.stderr)
        return bundle, None

    async def seeded(database_url: str, api_url: str) -> str:
        return await seed_records(database_url, api_url, arguments.web_records)

    async def scratch(server_url: str) -> RecordsFigures:
        async with scratch_database(server_url) as database_url:
            settings = Settings()
            settings.database.url = database_url
            settings.redis.url = running.redis_url
            settings.queue.prefix = f"bench-web-{os.getpid()}"
            with serve_in_thread(create_app(settings)) as api_url:
                email = await seeded(database_url, api_url)
                return await asyncio.to_thread(time_records_page, api_url, email, arguments.web_records)

    with servers(REPO_ROOT) as running:
        if not running.database_url or not running.redis_url:
            raise RuntimeError("no PostgreSQL or Redis to run on")
        return bundle, asyncio.run(scratch(running.database_url))


def _goal(name: str, value: float, at_most: bool = False) -> str:
    goal = GOALS.get(name)
    if goal is None:
        return ""
    met = value <= goal if at_most else value >= goal
    return f"goal {'≤' if at_most else '≥'} {goal:,g}: {'met' if met else 'NOT met'}"


def _print_summary_mode(figures: SummaryFigures) -> None:
    print("\n== Summary mode (one invoice per day and gateway) ==")
    print(
        f"  {figures.transactions} ONTRAPORT transactions of one day: {figures.summarised} in "
        f"{figures.summaries} daily summaries, the rest booked on their own (not paid, or refunded first)"
    )
    print(
        f"  Xero calls: {figures.xero_calls} = {figures.calls_per_transaction:.4f} per transaction "
        f"(goal < {CALLS_PER_TRANSACTION_GOAL}); took {figures.seconds:.0f} s"
    )
    print(f"  by endpoint: {dict(sorted(figures.calls.items()))}")


def _summary_mode_rows(figures: SummaryFigures | None) -> list[tuple[str, str, str]]:
    if figures is None:
        return []
    return [
        (
            f"summary mode ({figures.transactions} sales/day): Xero calls/transaction",
            f"{figures.calls_per_transaction:.4f}",
            f"goal < {CALLS_PER_TRANSACTION_GOAL}",
        )
    ]


def _print_summary(
    pipeline: PipelineFigures | None,
    mapper: MapperFigures | None,
    seconds: float,
    web: list[tuple[str, str, str]] | None = None,
    mapper_service: MapperServiceFigures | None = None,
    summary_mode: SummaryFigures | None = None,
    scenario_rows: list[tuple[str, str, str]] | None = None,
) -> None:
    rows: list[tuple[str, str, str]] = list(web or []) + _summary_mode_rows(summary_mode)
    rows += scenario_rows or []
    if pipeline is not None:
        for s in pipeline.scenarios:
            name = f"{s.name}: transactions/min/org"
            rows.append((name, f"{s.per_minute:.0f}", _goal(name, s.per_minute) or "ceiling 1000"))
            name = f"{s.name}: Xero calls per 50 transactions"
            rows.append((name, f"{s.calls_per_50:.2f}", "3.1 if all were paid sales: next row"))
            # The 3.1 goal is 3 % over a floor of 3 (paid sales alone); this data's own floor counts its
            # refunds, unpaid sales and reference reads, so the same 3 % over it is the fair test.
            allowed = s.floor_per_50 * 3.1 / 3
            met = "met" if s.calls_per_50 <= allowed else "NOT met"
            rows.append(
                (
                    f"{s.name}: Xero calls per 50, against this mix's floor",
                    f"{s.calls_per_50:.2f} / {s.floor_per_50:.2f}",
                    f"goal ≤ {allowed:.2f} (floor + 3 %): {met}",
                )
            )
            name = f"{s.name}: documents per invoice batch"
            rows.append((name, f"{s.invoices_per_call:.1f}", _goal(name, s.invoices_per_call)))
            rows.append((f"{s.name}: 429s", str(s.rate_limited), "goal 0"))
            rows.append(
                (
                    f"{s.name}: bytes read from Xero per transaction",
                    f"{s.bytes_per_transaction:,.0f}",
                    f"GETs {s.get_bytes / s.invoices if s.invoices else 0:,.0f} of them",
                )
            )
            rows.append(
                (
                    f"{s.name}: contact names unique / invoices on a wrong contact",
                    f"{'yes' if s.names_unique else 'NO'} / {s.merged}",
                    "goal yes / 0",
                )
            )
            rows.append((f"{s.name}: time (handed over → settled)", f"{s.wall_seconds:.0f} s", ""))
        if pipeline.idle_poll_calls:
            rows.append(
                ("ONTRAPORT calls per idle poll", " / ".join(map(str, pipeline.idle_poll_calls)), "goal 1")
            )
    if mapper_service is not None:
        name = "mapper service: records/s, one process"
        rows.append(
            (
                f"{name} (median of {MAPPER_SERVICE_RUNS})",
                f"{mapper_service.per_second:,.0f}",
                _goal(name, mapper_service.per_second),
            )
        )
    if mapper is not None:
        rows.append(("mapper core: transactions/second", f"{mapper.per_second:,.0f}", "one core"))
    rows.append(("bench total time", f"{seconds:.0f} s", ""))
    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print("\n== Summary ==")
    print(f"{'figure':<{width}}  {'value':>{value_width}}  goal")
    print(f"{'-' * width}  {'-' * value_width}  {'-' * 16}")
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>{value_width}}  {note}")


@asynccontextmanager
async def _scratch_options(
    arguments: argparse.Namespace, *, transactions: int, latency: bool
) -> AsyncIterator[PipelineOptions]:
    """A scenario's options on a fresh database of the servers in use (Xero's latency when it matters)."""
    with servers(REPO_ROOT) as running:
        if not running.database_url or not running.redis_url:
            raise RuntimeError("no PostgreSQL or Redis to run on")
        async with scratch_database(running.database_url) as database_url:
            yield PipelineOptions(
                transactions=transactions,
                latency_ms=arguments.latency_ms if latency else 0,
                jitter_ms=arguments.jitter_ms if latency else 0,
                database_url=database_url,
                redis_url=running.redis_url,
                keep_logs=arguments.keep_logs,
                scenarios=arguments.pipeline_scenarios,
            )


async def _pipeline(arguments: argparse.Namespace) -> PipelineFigures:
    async with _scratch_options(arguments, transactions=arguments.transactions, latency=True) as options:
        return await run_pipeline(options)


async def _mapper_service(arguments: argparse.Namespace) -> MapperServiceFigures:
    async with _scratch_options(arguments, transactions=arguments.transactions, latency=False) as options:
        return await run_mapper_service(options)


async def _summary_mode(arguments: argparse.Namespace) -> SummaryFigures:
    async with _scratch_options(
        arguments, transactions=arguments.summary_transactions, latency=True
    ) as options:
        return await run_summary_mode(options)


def _many_tenants_rows(figures: ManyTenantsFigures | None) -> list[tuple[str, str, str]]:
    if figures is None:
        return []
    rows: list[tuple[str, str, str]] = []
    scale = 10_000 / figures.tenants if figures.tenants else 0.0
    for c in figures.cycles:
        label = f"{figures.tenants:,} tenants, {c.replicas} poller(s)"
        goal = f"goal ≤ {CYCLE_GOAL_SECONDS} s: {'met' if c.seconds <= CYCLE_GOAL_SECONDS else 'NOT met'}"
        if figures.tenants != 10_000:
            goal += f"; 10,000 at this rate: {c.seconds * scale:.0f} s"
        rows.append((f"{label}: time to poll every tenant once", f"{c.seconds:.0f} s", goal))
        rows.append((f"{label}: ONTRAPORT calls per idle poll", f"{c.calls_per_poll:.3f}", "goal 1"))
        rows.append(
            (f"{label}: database statements per poll", f"{c.statements_per_poll:.1f}", "SQLAlchemy listener")
        )
        rows.append((f"{label}: poller CPU s per 1,000 polls", f"{c.cpu_per_thousand:.1f}", ""))
        rows.append((f"{label}: tenants polled twice in the cycle", str(c.double_polls), "goal 0"))
    return rows


async def _many_tenants(arguments: argparse.Namespace) -> ManyTenantsFigures:
    async with _scratch_options(arguments, transactions=0, latency=False) as options:
        return await run_many_tenants(options, arguments.tenants)


def _print_many_tenants(figures: ManyTenantsFigures) -> None:
    print(f"\n== Many tenants ({figures.tenants:,} ONTRAPORT connections, all due at once) ==")
    for c in figures.cycles:
        print(
            f"  {c.replicas} poller replica(s): {c.polled:,} polls in {c.seconds:.1f} s"
            f" ({c.polled / c.seconds if c.seconds else 0:,.1f}/s); ONTRAPORT calls {c.ontraport_calls:,}"
            f" ({c.calls_per_poll:.3f} per poll), tenants polled twice {c.double_polls}"
        )
        print(
            f"    database statements {c.statements:,} ({c.statements_per_poll:.1f} per poll, everything the"
            f" poller process sent: scheduler, outbox relay, inbox, the poll); CPU {c.cpu_seconds:.1f} s"
            f" ({c.cpu_per_thousand:.1f} s per 1,000 polls)"
        )


def _latency_rows(figures: LatencyFigures) -> list[tuple[str, str, str]]:
    label = (
        f"latency webhook → PAID ({figures.sales} sales, 1 per {figures.interval_seconds:g} s, "
        f"{figures.organisations} orgs)"
    )
    met = "met" if figures.p95 <= P95_GOAL_SECONDS else "NOT met"
    return [
        (f"{label}: p50", f"{figures.p50:.1f} s", ""),
        (f"{label}: p95", f"{figures.p95:.1f} s", f"goal ≤ {P95_GOAL_SECONDS:g} s: {met}"),
        ("latency: sales paid in Xero", f"{len(figures.latencies)}/{figures.sales}", "goal all"),
        ("latency: 429s", str(figures.rate_limited), "goal 0"),
        ("latency: most Xero calls in a minute, one org", str(figures.most_calls_in_a_minute), "limit 60"),
    ] + [
        (f"latency: {phase}: p50 / p95", f"{p50:.1f} / {p95:.1f} s", "")
        for phase, (p50, p95) in figures.phases.items()
    ]


async def _latency(arguments: argparse.Namespace) -> LatencyFigures:
    async with _scratch_options(arguments, transactions=0, latency=True) as options:
        return await run_latency(
            options, arguments.latency_sales, arguments.latency_interval, arguments.latency_orgs
        )


def _many_orgs_rows(figures: ManyOrgsFigures) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for r in figures.rounds:
        label = f"{figures.organisations} orgs x {figures.transactions}, {r.replicas} mapper+publisher"
        ceiling = CEILINGS["new customers"]
        rows += [
            (
                f"{label}: tx/min/org min / max",
                f"{r.min_per_minute:.0f} / {r.max_per_minute:.0f}",
                f"each near its ceiling {ceiling}, none starved",
            ),
            (f"{label}: tx/min all orgs", f"{r.total_per_minute:.0f}", ""),
            (f"{label}: 429s", str(r.rate_limited), "goal 0"),
            (
                f"{label}: most Xero calls/min, one org",
                str(r.most_calls_in_a_minute),
                f"goal ≤ {CALLS_PER_MINUTE_LIMIT}",
            ),
            (f"{label}: records failed", str(r.failed), "goal 0"),
            (f"{label}: handed over → first Xero create, slowest org", f"{r.slowest_start:.0f} s", ""),
            (f"{label}: time (handed over → settled)", f"{r.seconds:.0f} s", ""),
            (
                f"{label}: CPU ms per transaction, " + " / ".join(sorted(r.cpu_seconds)) + " = total",
                " / ".join(f"{r.cpu_ms_per_transaction(role):.0f}" for role in sorted(r.cpu_seconds))
                + f" = {r.cpu_ms_per_transaction():.0f}",
                f"load {r.load[0]:.1f} {r.load[1]:.1f} {r.load[2]:.1f}",
            ),
            (
                f"{label}: tx/min this machine's {os.cpu_count()} cores carry at that cost",
                f"{r.machine_per_minute:.0f}",
                f"{figures.organisations} orgs at the ceiling: {figures.organisations * ceiling}",
            ),
        ]
    return rows


async def _many_orgs(arguments: argparse.Namespace) -> ManyOrgsFigures:
    async with _scratch_options(arguments, transactions=arguments.org_transactions, latency=True) as options:
        return await run_many_orgs(options, arguments.organisations)


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM as Ctrl-C: asyncio cancels the run, every `finally` stops workers and drops the database.
    os.kill(os.getpid(), signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    signal.signal(signal.SIGTERM, _terminate)
    began = time.monotonic()
    pipeline: PipelineFigures | None = None
    mapper: MapperFigures | None = None
    mapper_service: MapperServiceFigures | None = None
    summary_mode: SummaryFigures | None = None
    web: list[tuple[str, str, str]] = []
    scenario_rows: list[tuple[str, str, str]] = []
    try:
        if not arguments.skip_web:
            print(
                f"Web app: first load, and the records page with {arguments.web_records:,} records …",
                flush=True,
            )
            bundle, records = _web(arguments)
            _print_web(bundle, records)
            web = _web_rows(bundle, records)
        if not arguments.skip_mapper:
            print(f"Mapper core: {arguments.mapper_transactions} transactions …", flush=True)
            mapper = run_mapper(arguments.mapper_transactions)
            _print_mapper(mapper)
        if not arguments.skip_pipeline:
            print(
                f"\nPipeline: {arguments.transactions} transactions per scenario, Xero latency "
                f"{arguments.latency_ms:.0f} ms ± {arguments.jitter_ms:.0f} ms, 60 calls/min, 5 concurrent …",
                flush=True,
            )
            pipeline = asyncio.run(_pipeline(arguments))
            _print_pipeline(pipeline)
        if arguments.mapper_service:
            print(
                f"\nMapper service: {arguments.transactions} stored records, one mapper process …", flush=True
            )
            # A drain of a few seconds varies by a third from run to run on this machine: the median of
            # a few, each on a fresh database, is the figure.
            runs = []
            for _ in range(MAPPER_SERVICE_RUNS):
                run = asyncio.run(_mapper_service(arguments))
                print(
                    f"  {run.records} records in {run.seconds:.1f} s: "
                    f"{run.per_second:,.0f} records/s; statuses {run.statuses}"
                )
                runs.append(run)
            mapper_service = sorted(runs, key=lambda r: r.per_second)[len(runs) // 2]
            print(f"  median of {len(runs)} runs: {mapper_service.per_second:,.0f} records/s")
        if not arguments.skip_summary:
            print(f"\nSummary mode: a day of {arguments.summary_transactions} transactions …", flush=True)
            summary_mode = asyncio.run(_summary_mode(arguments))
            _print_summary_mode(summary_mode)
        if not arguments.skip_latency:
            print(
                f"\nLatency: {arguments.latency_sales} sales, one every {arguments.latency_interval:g} s "
                f"over {arguments.latency_orgs} organisations, each announced by an ONTRAPORT webhook …",
                flush=True,
            )
            latency = asyncio.run(_latency(arguments))
            print(
                f"  {len(latency.latencies)}/{latency.sales} paid in Xero; webhook → PAID p50 "
                f"{latency.p50:.1f} s, p95 {latency.p95:.1f} s, max {max(latency.latencies, default=0):.1f} s; "
                f"{latency.xero_calls} Xero calls, {latency.rate_limited} 429s; took {latency.seconds:.0f} s"
            )
            scenario_rows += _latency_rows(latency)
        if not arguments.skip_many_orgs:
            print(
                f"\nMany organisations: {arguments.organisations} x {arguments.org_transactions} "
                "transactions at once, one then two mapper and publisher processes …",
                flush=True,
            )
            many_orgs = asyncio.run(_many_orgs(arguments))
            for r in many_orgs.rounds:
                per_org = ", ".join(f"{o.per_minute:.0f}" for o in r.organisations)
                print(
                    f"  {r.replicas} replica(s): tx/min per org [{per_org}] (median {r.median_per_minute:.0f}); "
                    f"{r.rate_limited} 429s; most calls/min for one org {r.most_calls_in_a_minute}; "
                    f"settled in {r.seconds:.0f} s"
                )
            scenario_rows += _many_orgs_rows(many_orgs)
        if not arguments.skip_many_tenants:
            print(
                f"\nMany tenants: {arguments.tenants:,} ONTRAPORT connections, one poller then two …",
                flush=True,
            )
            many_tenants = asyncio.run(_many_tenants(arguments))
            _print_many_tenants(many_tenants)
            scenario_rows += _many_tenants_rows(many_tenants)
    except KeyboardInterrupt:
        print("\ninterrupted; workers stopped, scratch database dropped", file=sys.stderr)
        return 130
    _print_summary(
        pipeline, mapper, time.monotonic() - began, web, mapper_service, summary_mode, scenario_rows
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
