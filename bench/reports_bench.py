"""Benchmark the reports on PostgreSQL: ingest with and without the rollups, and each endpoint's server time.

    python bench/reports_bench.py                        # 1M orders, then 10M order lines (heavy: run it once)
    python bench/reports_bench.py --big-lines 0          # 1M only
    python bench/reports_bench.py --rows 100000 --big-lines 0 --skip-ingest-compare   # a quick look
    python bench/reports_bench.py --rows 100000 --big-lines 1000000 --skip-ingest-compare   # the big part, at 1M

1. Ingest: generates the ingest benchmark's two 1M-row files (bench/generate.py), loads
   them through `manage.py ingest` into a fresh database with the rollup triggers and into
   one without, and runs the COPY baseline (bench/run.py) into two more of each kind.
2. Reads at 1M: right after those loads, in a new process that has served one request
   reading no report data, as a running server has (cold: empty cache), then again
   (warm), it times every API endpoint, all-time, for a 3-month range (whole months) and
   for a ragged 3-month range, and the whole dashboard view.
   "Server time" is Django's handling of the request in-process (test client), no network.
3. Reads at 10M lines: fills a database with 10M order lines straight in SQL
   (generate_series: about 1.8M orders of 1 to 10 lines, 5.5 on average; the triggers are
   dropped for the fill and the rollups rebuilt after, as a restore would), loads a
   10,000-row file of one row per order through `manage.py ingest` on top (30% of its rows
   are stored orders, whose other lines it deletes; so "cold" is right after a load), then
   measures as above.
   After each load it runs what a Celery worker runs after a load (packing the sums of
   the days it wrote, their halves and months, timed on its own); the cache warm-up
   needs a shared cache and is off.
   Reads are measured right after the load, then again after VACUUM ANALYZE (what
   autovacuum does soon after: dead rollup rows gone, fresh statistics).
Needs PostgreSQL at --pg (default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import benchmark_files_write, write_sales_file  # noqa: E402
from run import baseline_load, django_env, fresh_database, ingest, migrate, run_measured  # noqa: E402

PYTHON = sys.executable
ENDPOINTS = [
    "/api/top-customers/",
    "/api/top-customers-by-quantity/",
    "/api/top-products/",
    "/api/top-products-by-revenue/",
    "/api/monthly-revenue/",
]
RANGES = {
    "all time": "",
    "3 months": "?start=2024-04-01&end=2024-06-30",
    "3 months, ragged": "?start=2024-04-15&end=2024-07-14",
}
WARM_REPEATS = 7


def measure_in_process() -> dict:
    """Run inside Django (DATABASE_URL set): time every endpoint and the dashboard, cold then warm."""
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesproject.settings.local")
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_superuser": True, "is_staff": True})
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    # A server running when the load commits has served requests before: its URLconf and
    # middleware are loaded. One request that reads no report data does that here, so that
    # "cold" is the empty cache and the data's first read, not the process's first request.
    client.get("/favicon.ico")
    cache.clear()
    results = {}
    paths = [(label, endpoint + query) for label, query in RANGES.items() for endpoint in ENDPOINTS]
    paths += [(label, "/dashboard/" + query) for label, query in RANGES.items()]
    for label, path in paths:
        started = time.perf_counter()
        response = client.get(path)
        cold = (time.perf_counter() - started) * 1000
        assert response.status_code == 200, (path, response.status_code)
        warm = []
        for _ in range(WARM_REPEATS):
            started = time.perf_counter()
            client.get(path)
            warm.append((time.perf_counter() - started) * 1000)
        results[f"{label}|{path.split('?')[0]}"] = {"cold_ms": round(cold, 1), "warm_ms": round(statistics.median(warm), 1)}
    # Uncached: what a cache miss costs (every request recomputes from the rollups).
    for label, path in paths:
        times = []
        for _ in range(3):
            cache.clear()
            started = time.perf_counter()
            client.get(path)
            times.append((time.perf_counter() - started) * 1000)
        results[f"{label}|{path.split('?')[0]}"]["uncached_ms"] = round(statistics.median(times), 1)
    return results


def measure(env: dict) -> dict:
    output = subprocess.run(
        [PYTHON, str(Path(__file__).resolve()), "--measure"],
        cwd=ROOT, env={**env, "DJANGO_DEBUG": "false"}, capture_output=True, text=True, check=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def print_reads(title: str, results: dict) -> None:
    print(f"\n{title}")
    print("| range | endpoint | cold ms | warm ms | uncached ms |")
    print("|---|---|---|---|---|")
    for key, value in results.items():
        label, path = key.split("|")
        print(f"| {label} | `{path}` | {value['cold_ms']} | {value['warm_ms']} | {value['uncached_ms']} |")


def psql(database_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        for statement in sql.split(";\n"):
            if statement.strip():
                connection.execute(statement)


def post_load_refresh(env: dict) -> float:
    """What a Celery worker does after each load (the bench runs tasks in-process, which skips it): pack the days' sums."""
    return run_measured([PYTHON, "manage.py", "shell", "-c", "from reports.services import packed_sums_refresh_stale as f; f()"], env)[0]


def vacuum_analyze(env: dict) -> None:
    """What autovacuum does within a minute or so of a load (a server may run with it off, as this machine's does)."""
    psql(env["DATABASE_URL"], "VACUUM ANALYZE")


def triggers(env: dict, action: str) -> None:
    run_measured(
        [PYTHON, "manage.py", "shell", "-c", f"from reports.rollups import rollup_triggers_{action} as f; f()"], env
    )


# Lines per order in the fill: 1 to 10 by order number (7919 is prime to 10, so each count
# comes as often), 5.5 on average.
FILL_LINES_PER_ORDER = "1 + (o.i::bigint * 7919) % 10"  # bigint: 1.8M orders x 7919 passes a 32-bit integer
FILL_MEAN_LINES = 5.5
# Order ids as bench/generate.py writes them (ORD + 8 digits), so that the file loaded on top
# updates stored orders. Each order has one customer and date; each line its product,
# quantity and price (the subqueries' random() values are computed once per row of each).
FILL_SQL = """
INSERT INTO orders_customer (customer_id, created_at, updated_at)
    SELECT 'C' || lpad(i::text, 5, '0'), now(), now() FROM generate_series(1, 50000) i;
INSERT INTO orders_product (product_id, created_at, updated_at)
    SELECT 'SKU-' || lpad(i::text, 4, '0'), now(), now() FROM generate_series(1, 5000) i;
SET maintenance_work_mem = '512MB';
INSERT INTO orders_order (order_id, line_no, customer_id, product_id, quantity, unit_price, line_total, order_count,
        order_date, source_file, source_business_date, created_at, updated_at)
    SELECT 'ORD' || lpad(i::text, 8, '0'), line_no, customer, product, quantity, unit_price, quantity * unit_price,
        CASE WHEN line_no = 1 THEN 1 ELSE 0 END, order_date, 'bench', date '2024-06-01', now(), now()
    FROM (
        SELECT o.i, l.line_no, o.customer, o.order_date, 1 + floor(random() * 5000)::int AS product,
            1 + floor(random() * 9)::int AS quantity, ((100 + floor(random() * 99900))::int / 100.0)::numeric(12, 2) AS unit_price
        FROM (
            SELECT i, 1 + floor(random() * 50000)::int AS customer, date '2024-01-01' + floor(random() * 365)::int AS order_date
            FROM generate_series(1, {orders}) i
        ) o
        CROSS JOIN LATERAL generate_series(1, {lines_per_order}) AS l(line_no)
    ) lines;
VACUUM ANALYZE orders_order
"""


def fill_sql(lines: int) -> tuple[str, int]:
    """The SQL that fills about `lines` order lines, and how many orders they are."""
    orders = max(1, round(lines / FILL_MEAN_LINES))
    return FILL_SQL.format(orders=orders, lines_per_order=FILL_LINES_PER_ORDER), orders


def fill_shape(database_url: str) -> tuple[int, int]:
    """(lines, orders) stored."""
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT count(*), sum(order_count) FROM orders_order").fetchone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--big-lines", "--big-orders", dest="big_lines", type=int, default=10_000_000,
        help="Order lines for the big read benchmark (about 1 order in 5.5 lines); 0 skips it.",
    )
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--skip-ingest-compare", action="store_true", help="Load with rollups only, no baseline.")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure_in_process()))
        return

    work = Path(tempfile.mkdtemp(prefix="salesproject-reports-bench-"))
    log_dir = work / "logs"
    rows = args.rows
    print(f"Generating {rows:,}-row files in {work} ...", flush=True)
    first, update = benchmark_files_write(work, rows)
    kinds = ["with rollups"] if args.skip_ingest_compare else ["with rollups", "without rollups"]
    ingest_rows = []
    envs = {}
    for kind in kinds:
        slug = kind.replace(" ", "_")
        env = django_env(fresh_database(args.pg, f"bench_reports_{slug}"), log_dir)
        migrate(env)
        if kind == "without rollups":
            triggers(env, "uninstall")
        envs[kind] = env
        times = [ingest(path, env)[0] for path in (first, update)]
        ingest_rows.append((kind, "ingest", *times))
        print(f"{kind}: ingest {times[0]:.1f} s, {times[1]:.1f} s", flush=True)
    refresh_1m = post_load_refresh(envs["with rollups"])
    print(f"post-load packing of the days' sums (a worker's task after the loads): {refresh_1m:.1f} s", flush=True)
    reads_1m = measure(envs["with rollups"])
    vacuum_analyze(envs["with rollups"])
    reads_1m_vacuumed = measure(envs["with rollups"])
    if not args.skip_ingest_compare:
        first_clean, update_clean = work / "first_clean.csv", work / "update_clean.csv"
        for messy, clean in ((first, first_clean), (update, update_clean)):
            run_measured([PYTHON, str(ROOT / "bench" / "generate.py"), str(messy), "--clean-form", str(clean)], os.environ.copy())
        for kind in kinds:
            slug = kind.replace(" ", "_")
            env = django_env(fresh_database(args.pg, f"bench_reports_baseline_{slug}"), log_dir)
            migrate(env)
            if kind == "without rollups":
                triggers(env, "uninstall")
            times = [baseline_load(env["DATABASE_URL"], clean, day) for clean, day in ((first_clean, "2024-06-01"), (update_clean, "2024-06-02"))]
            ingest_rows.append((kind, "baseline", *times))
            print(f"{kind}: baseline {times[0]:.1f} s, {times[1]:.1f} s", flush=True)

    print(f"\nIngest, PostgreSQL, {rows:,} rows per file")
    print("| schema | first load s | update s |")
    print("|---|---|---|")
    for kind, what, first_s, update_s in ingest_rows:
        print(f"| {kind}, {what} | {first_s:.1f} | {update_s:.1f} |")
    by = {(kind, what): (a, b) for kind, what, a, b in ingest_rows}
    for kind in kinds:
        if (kind, "baseline") in by:
            ours, base = by[(kind, "ingest")], by[(kind, "baseline")]
            print(f"| ratio to the baseline of the same schema, {kind} | {ours[0] / base[0]:.2f} | {ours[1] / base[1]:.2f} |")
    if ("without rollups", "baseline") in by:
        ours, base = by[("with rollups", "ingest")], by[("without rollups", "baseline")]
        print(f"| ratio with rollups to the baseline without | {ours[0] / base[0]:.2f} | {ours[1] / base[1]:.2f} |")
    print_reads(f"Reads at {rows:,} + update orders, right after the loads (server time, PostgreSQL)", reads_1m)
    print_reads(f"Reads at {rows:,} + update orders, after VACUUM ANALYZE (server time, PostgreSQL)", reads_1m_vacuumed)

    if args.big_lines:
        env = django_env(fresh_database(args.pg, "bench_reports_big"), log_dir)
        migrate(env)
        triggers(env, "uninstall")
        sql, orders = fill_sql(args.big_lines)
        started = time.perf_counter()
        psql(env["DATABASE_URL"], sql)
        fill = time.perf_counter() - started
        lines, _ = fill_shape(env["DATABASE_URL"])
        started = time.perf_counter()
        run_measured([PYTHON, "manage.py", "rollups_rebuild"], env)
        triggers(env, "install")
        psql(env["DATABASE_URL"], "VACUUM ANALYZE")
        rebuild = time.perf_counter() - started
        small = write_sales_file(
            work / "sales_data_2024-07-01.csv", rows=10_000, first_order=orders + 1, existing_share=0.3,
            existing_upto=orders, seed=4,
        )
        small_ingest, _, small_output = ingest(small, env)
        refresh = post_load_refresh(env)
        print(small_output.strip())
        print(f"\n{lines:,} order lines ({orders:,} orders): filled in {fill:.0f} s, rollups rebuilt in {rebuild:.0f} s,"
              f" then a 10,000-row file (30% updates) ingested in {small_ingest:.1f} s;"
              f" the worker's post-load packing of the days' sums took {refresh:.1f} s", flush=True)
        title = f"{lines:,} order lines ({orders:,} orders)"
        print_reads(f"Reads at {title}, right after the load (server time, PostgreSQL)", measure(env))
        vacuum_analyze(env)
        print_reads(f"Reads at {title}, after VACUUM ANALYZE (server time, PostgreSQL)", measure(env))
    print(f"\nLogs: {log_dir}")


if __name__ == "__main__":
    main()
