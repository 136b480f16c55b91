"""Benchmark `manage.py ingest` of a line file against the COPY-then-upsert baseline, in one run.

    python bench/lines_run.py                    # 1,000,000 lines (about 208,000 orders of 1 to 10 lines)
    python bench/lines_run.py --lines 100000     # a quick look
    python bench/lines_run.py --repeat 3         # three rounds, each in fresh databases; the median ratio

1. Generates a messy line file (bench/generate.py: order_id;line_no;customer_id;product_id;
   quantity;price;order_date, semicolons, decimal commas, one bad row in 10,000) and an
   updated version of it a day later: the same orders, 30% of them with other lines
   (fewer, more, or another quantity and price on a line).
2. Loads both through `manage.py ingest` into a fresh PostgreSQL database.
3. Runs the baseline on the same lines in clean form, in a fresh database of the same
   schema: COPY into a staging table, INSERT the customers and products ON CONFLICT DO
   NOTHING, DELETE the stored lines past each order's last line in the file, INSERT the
   lines ... ON CONFLICT (order_id, line_no) DO UPDATE (order_count 1 on line 1).
4. Prints each load's time, its ratio to the baseline and peak memory (RSS), and checks
   that both databases hold the same lines. A CHECKPOINT comes before each timed load (not
   timed); with --repeat, rounds alternate which of the two loads first, and the median
   ratio is printed (on a shared machine one round's ratio can move by 0.3).
Needs PostgreSQL at --pg (default postgres://postgres@127.0.0.1:5432).
"""

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from generate import line_files_write  # noqa: E402
from run import (  # noqa: E402
    PYTHON,
    baseline_load,
    checkpoint,
    contents_compare,
    django_env,
    fresh_database,
    ingest_split,
    migrate,
    run_measured,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000, help="Lines in the first file.")
    parser.add_argument("--repeat", type=int, default=1, help="Rounds, each in fresh databases.")
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="salesproject-lines-bench-"))
    log_dir = work / "logs"
    print(f"Generating {args.lines:,}-line files in {work} ...", flush=True)
    first, update = line_files_write(work, args.lines)
    first_clean, update_clean = work / "first_clean.csv", work / "update_clean.csv"
    for messy, clean in ((first, first_clean), (update, update_clean)):
        run_measured(
            [PYTHON, str(ROOT / "bench" / "generate.py"), str(messy), "--lines", "--clean-form", str(clean)],
            os.environ.copy(),
        )

    loads = (
        ("first load (all new)", first, first_clean, "2024-06-01"),
        ("re-load, a day later (30% of orders changed)", update, update_clean, "2024-06-02"),
    )
    results = {label: [] for label, *_ in loads}
    for round_no in range(1, args.repeat + 1):
        ours_env = django_env(fresh_database(args.pg, "bench_lines"), log_dir)
        base_env = django_env(fresh_database(args.pg, "bench_lines_baseline"), log_dir)
        migrate(ours_env)
        migrate(base_env)
        for label, messy, clean, day in loads:
            timed = {}
            # Odd rounds load ours first, even rounds the baseline: neither always meets the other's leftovers.
            for side in ("ours", "baseline") if round_no % 2 else ("baseline", "ours"):
                if side == "ours":
                    checkpoint(ours_env["DATABASE_URL"])
                    seconds, packing, rss, output = ingest_split(messy, ours_env)
                    timed["ours"] = (seconds, rss, packing)
                    print(output.strip(), flush=True)
                else:
                    checkpoint(base_env["DATABASE_URL"])
                    timed["baseline"] = baseline_load(base_env["DATABASE_URL"], clean, day, lines=True)
            results[label].append((timed["ours"][0], timed["baseline"], timed["ours"][1], timed["ours"][2]))
        check = contents_compare(ours_env["DATABASE_URL"], base_env["DATABASE_URL"])
        print(f"Round {round_no}: {check}", flush=True)

    print()
    print(f"PostgreSQL, line files of {args.lines:,} lines")
    print("| load | ingest s | baseline s | ratio | then packing s | peak RSS MB |")
    print("|---|---|---|---|---|---|")
    for label, rounds in results.items():
        for round_no, (seconds, baseline, rss, packing) in enumerate(rounds, start=1):
            name = label if args.repeat == 1 else f"{label}, round {round_no}"
            print(f"| {name} | {seconds:.1f} | {baseline:.1f} | {seconds / baseline:.2f} | {packing:.1f} | {rss:.0f} |")
        if args.repeat > 1:
            ratio = statistics.median(seconds / baseline for seconds, baseline, _, _ in rounds)
            print(f"| {label}, median of {args.repeat} | | | **{ratio:.2f}** | | |")
    print(f"After the loads: {check}")
    print(f"\nLogs: {log_dir}")


if __name__ == "__main__":
    main()
