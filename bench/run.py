"""Benchmark `manage.py ingest` against the COPY-then-upsert baseline, in one run.

    python bench/run.py                      # 1M rows on PostgreSQL, plus SQLite
    python bench/run.py --rows 100000 --big-rows 0 --skip-sqlite   # a quick look
    python bench/run.py --skip-postgresql    # the SQLite 1M first load alone
    python bench/lines_run.py                # line files (orders of 1 to 10 lines): see its docstring

1. Generates a messy 1M-row file (semicolons, decimal commas, a few bad rows) and a
   1M-row update file (30% existing orders; an order repeated in it keeps its product, so
   the rows are corrections and the file stays one row per order).
2. Loads each through `manage.py ingest` into a fresh PostgreSQL database.
3. Runs the baseline on the same rows in clean form (valid rows only, the last row of each
   order, decimal points): COPY into a staging table, then INSERT ... ON CONFLICT into
   the same tables (one-line orders: line_no 1), in a fresh database of the same schema.
4. Prints each load's time, its ratio to the baseline, and peak memory (RSS), and checks
   that both databases hold the same lines. A CHECKPOINT before each timed load (not timed)
   keeps one load's dirty pages from being written during the next.
Also: re-ingesting the unchanged file, peak memory at --big-rows, and SQLite at --rows.
Needs PostgreSQL at --pg (default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import benchmark_files_write, write_sales_file  # noqa: E402

PYTHON = sys.executable


def run_measured(args: list[str], env: dict) -> tuple[float, float, str]:
    """Run a command; return (seconds, peak RSS in MB, output)."""
    started = time.perf_counter()
    process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = process.stdout.read()
    _pid, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{output}")
    return seconds, usage.ru_maxrss / 1024, output


def fresh_database(pg: str, name: str) -> str:
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{pg}/{name}"


def checkpoint(database_url: str) -> None:
    """Write out the dirty pages the last load left, so that the next timed load does not pay for them."""
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("CHECKPOINT")


def django_env(database_url: str, log_dir: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL",)}
    env.update(
        {
            "DATABASE_URL": database_url,
            "LOG_DIR": str(log_dir),
            "INGEST_SNAPSHOT_DIR": str(log_dir.parent / "snapshots"),
            "DJANGO_SETTINGS_MODULE": "salesproject.settings.local",
        }
    )
    return env


def migrate(env: dict) -> None:
    run_measured([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env)


def ingest(path: Path, env: dict) -> tuple[float, float, str]:
    return run_measured([PYTHON, "manage.py", "ingest", "--no-progress", str(path)], env)


_PACKED = re.compile(r"packed the sums of \d+ days in ([\d.]+) s \(no worker\)")


def ingest_split(path: Path, env: dict) -> tuple[float, float, float, str]:
    """(load s, packing s, peak RSS MB, output) of `manage.py ingest`.

    With no broker the command packs the days it wrote before it returns (reports.signals),
    which a baseline never does: the load is compared with the baseline, and the packing,
    read from the pipeline log's own timing, is shown beside it.
    """
    log = Path(env["LOG_DIR"]) / "pipeline_execution.log"
    offset = log.stat().st_size if log.exists() else 0
    seconds, rss, output = ingest(path, env)
    with open(log, encoding="utf-8", errors="replace") as lines:
        lines.seek(offset)
        packing = sum(float(match.group(1)) for match in _PACKED.finditer(lines.read()))
    return seconds - packing, packing, rss, output


# The baseline: what a careful engineer writes by hand for clean rows, into the same schema.
# Orders are lines (orders/migrations/0014): a row of a seed-shaped file is a one-line order
# (line_no 1, order_count 1, line_total = quantity x price), and the file's version of an
# order replaces the stored one, so its later lines go (a look-up in the partial index
# order_later_lines, empty while every order has one line).
BASELINE_SQL = """
INSERT INTO orders_customer (customer_id, created_at, updated_at)
    SELECT DISTINCT customer_id, now(), now() FROM staging ON CONFLICT (customer_id) DO NOTHING;
INSERT INTO orders_product (product_id, created_at, updated_at)
    SELECT DISTINCT product_id, now(), now() FROM staging ON CONFLICT (product_id) DO NOTHING;
DELETE FROM orders_order o USING staging s WHERE o.line_no > 1 AND o.order_id = s.order_id;
INSERT INTO orders_order (order_id, line_no, customer_id, product_id, quantity, unit_price, line_total, order_count,
        order_date, source_file, source_line, source_business_date, created_at, updated_at)
    SELECT s.order_id, 1, c.id, p.id, s.quantity, s.unit_price, s.quantity * s.unit_price, 1, s.order_date,
        'baseline', 0, %(day)s, now(), now()
    FROM staging s
    JOIN orders_customer c ON c.customer_id = s.customer_id
    JOIN orders_product p ON p.product_id = s.product_id
    ON CONFLICT (order_id, line_no) DO UPDATE SET customer_id = excluded.customer_id,
        product_id = excluded.product_id, quantity = excluded.quantity, unit_price = excluded.unit_price,
        line_total = excluded.line_total, order_count = excluded.order_count, order_date = excluded.order_date,
        source_business_date = excluded.source_business_date, updated_at = excluded.updated_at;
"""
# The same for a line file (bench/lines_run.py): each row is line line_no of its order, and
# an order in the file is the set of its lines there: stored lines past its last one go.
LINE_BASELINE_SQL = """
INSERT INTO orders_customer (customer_id, created_at, updated_at)
    SELECT DISTINCT customer_id, now(), now() FROM staging ON CONFLICT (customer_id) DO NOTHING;
INSERT INTO orders_product (product_id, created_at, updated_at)
    SELECT DISTINCT product_id, now(), now() FROM staging ON CONFLICT (product_id) DO NOTHING;
DELETE FROM orders_order o
    USING (SELECT order_id, max(line_no) AS lines FROM staging GROUP BY order_id) f
    WHERE o.line_no > 1 AND o.order_id = f.order_id AND o.line_no > f.lines;
INSERT INTO orders_order (order_id, line_no, customer_id, product_id, quantity, unit_price, line_total, order_count,
        order_date, source_file, source_line, source_business_date, created_at, updated_at)
    SELECT s.order_id, s.line_no, c.id, p.id, s.quantity, s.unit_price, s.quantity * s.unit_price,
        CASE WHEN s.line_no = 1 THEN 1 ELSE 0 END, s.order_date, 'baseline', 0, %(day)s, now(), now()
    FROM staging s
    JOIN orders_customer c ON c.customer_id = s.customer_id
    JOIN orders_product p ON p.product_id = s.product_id
    ON CONFLICT (order_id, line_no) DO UPDATE SET customer_id = excluded.customer_id,
        product_id = excluded.product_id, quantity = excluded.quantity, unit_price = excluded.unit_price,
        line_total = excluded.line_total, order_count = excluded.order_count, order_date = excluded.order_date,
        source_business_date = excluded.source_business_date, updated_at = excluded.updated_at;
"""


def baseline_load(database_url: str, clean: Path, day: str, *, lines: bool = False) -> float:
    """COPY a clean file into a staging table and upsert it; return the seconds it took.

    lines: the clean file is a line file's (order_id, line_no, ...), from generate.line_clean_form.
    """
    started = time.perf_counter()
    line_no = " line_no integer," if lines else ""
    with psycopg.connect(database_url) as connection:
        connection.execute(
            f"CREATE TEMP TABLE staging (order_id text,{line_no} customer_id text, product_id text, quantity integer,"
            " unit_price numeric(12, 2), order_date date) ON COMMIT DROP"
        )
        with connection.cursor().copy("COPY staging FROM STDIN WITH (FORMAT csv)") as copy:
            with open(clean, "rb") as stream:
                while block := stream.read(1 << 20):
                    copy.write(block)
        for statement in (LINE_BASELINE_SQL if lines else BASELINE_SQL).split(";\n"):
            if statement.strip():
                connection.execute(statement, {"day": day} if "%(day)s" in statement else None)
    return time.perf_counter() - started


# What the orders hold, by business ids (the two databases number customers and products
# apart): counts, sums and a checksum of every line's values.
CONTENTS_SQL = """
SELECT count(*), count(DISTINCT o.order_id), sum(o.order_count), max(o.line_no), sum(o.quantity), sum(o.line_total),
    sum(hashtext(concat_ws(':', o.order_id, o.line_no, c.customer_id, p.product_id, o.quantity, o.unit_price,
        o.line_total, o.order_count, o.order_date))::bigint)
FROM orders_order o LEFT JOIN orders_customer c ON c.id = o.customer_id LEFT JOIN orders_product p ON p.id = o.product_id
"""


def contents_compare(ours_url: str, baseline_url: str) -> str:
    """Say whether our load and the baseline's left the same lines (not timed: a check that both did one job)."""
    found = []
    for url in (ours_url, baseline_url):
        with psycopg.connect(url) as connection:
            found.append(connection.execute(CONTENTS_SQL).fetchone())
    ours, base = found
    lines, orders, counted, longest = ours[:4]
    longest = f"{longest} line" if longest == 1 else f"{longest} lines"
    shape = f"{lines:,} lines, {orders:,} order ids, {counted or 0:,} counted as orders, the longest order {longest}"
    if ours == base:
        return f"same contents as the baseline: {shape}"
    return (
        f"CONTENTS DIFFER from the baseline: ours {shape}; (lines, order ids, orders, longest, quantity, total,"
        f" checksum): ours {ours}, baseline {base}"
    )


def postgresql_part(args, work: Path, log_dir: Path, rows: int, first: Path, update: Path) -> None:
    """The loads into PostgreSQL against the baseline, the re-ingest, and memory at --big-rows."""
    first_clean, update_clean = work / "first_clean.csv", work / "update_clean.csv"
    # In a child process: ru_maxrss of the loads started later would otherwise count the
    # memory this process held for it (Linux keeps the high-water mark across fork and exec).
    for messy, clean in ((first, first_clean), (update, update_clean)):
        run_measured([PYTHON, str(ROOT / "bench" / "generate.py"), str(messy), "--clean-form", str(clean)], os.environ.copy())

    results = []
    ours_env = django_env(fresh_database(args.pg, "bench_salesproject"), log_dir)
    base_env = django_env(fresh_database(args.pg, "bench_baseline"), log_dir)
    migrate(ours_env)
    migrate(base_env)

    for label, messy, clean, day in (
        ("first load (all new)", first, first_clean, "2024-06-01"),
        ("update (30% existing)", update, update_clean, "2024-06-02"),
    ):
        checkpoint(ours_env["DATABASE_URL"])
        seconds, packing, rss, output = ingest_split(messy, ours_env)
        checkpoint(base_env["DATABASE_URL"])
        baseline = baseline_load(base_env["DATABASE_URL"], clean, day)
        results.append((label, seconds, packing, baseline, rss))
        print(output.strip(), flush=True)

    again, again_rss, output = ingest(first, ours_env)
    print(output.strip())
    check = contents_compare(ours_env["DATABASE_URL"], base_env["DATABASE_URL"])

    print()
    print(f"PostgreSQL, {rows:,} rows per file")
    print("| load | ingest s | baseline s | ratio | then packing s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for label, seconds, packing, baseline, rss in results:
        print(f"| {label} | {seconds:.1f} | {baseline:.1f} | {seconds / baseline:.2f} | {packing:.1f} | {rss:.0f} |")
    print(f"| re-ingest unchanged file | {again:.2f} | | | | {again_rss:.0f} |")
    print(f"After both loads: {check}")

    if args.big_rows:
        big = write_sales_file(
            work / "sales_data_2024-07-01.csv", rows=args.big_rows, first_order=1, existing_share=0, existing_upto=0, seed=3
        )
        big_env = django_env(fresh_database(args.pg, "bench_big"), log_dir)
        migrate(big_env)
        big_seconds, big_rss, _ = ingest(big, big_env)
        small_rss = results[0][4]
        print(
            f"| first load at {args.big_rows:,} rows | {big_seconds:.1f} | | | {big_rss:.0f} "
            f"({(big_rss / small_rss - 1) * 100:+.0f}% vs {rows:,}) |"
        )
        big.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=5_000_000, help="Rows for the memory-growth check; 0 skips it.")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgresql", action="store_true", help="Only the SQLite first load (and no --big-rows).")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="salesproject-bench-"))
    log_dir = work / "logs"
    rows = args.rows
    print(f"Generating {rows:,}-row files in {work} ...", flush=True)
    first, update = benchmark_files_write(work, rows)
    if not args.skip_postgresql:
        postgresql_part(args, work, log_dir, rows, first, update)

    if not args.skip_sqlite:
        sqlite_env = django_env(f"sqlite:///{work / 'bench.sqlite3'}", log_dir)
        migrate(sqlite_env)
        sqlite_seconds, sqlite_packing, sqlite_rss, _ = ingest_split(first, sqlite_env)
        print(f"| SQLite first load | {sqlite_seconds:.1f} | | | {sqlite_packing:.1f} | {sqlite_rss:.0f} |")
    print(f"\nLogs: {log_dir}")


if __name__ == "__main__":
    main()
