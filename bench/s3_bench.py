"""Benchmark loading from an S3 bucket against loading the same file from the local folder, in one run.

    python bench/s3_bench.py                   # 1M rows, PostgreSQL
    python bench/s3_bench.py --rows 100000     # a quick look
    python bench/s3_bench.py --sqlite          # no PostgreSQL needed

1. Writes a messy sales file with bench/generate.py (semicolons, decimal commas, bad rows),
   plus a .csv.gz of it, and starts moto's S3 server (a subprocess, on a free port).
2. Loads each file with `manage.py ingest` (no path: "every new file in the bucket") into a
   fresh database: once with the file in the local bucket folder, once with the same
   bytes in an S3 bucket (BUCKET_URL=s3://...) and an empty local folder. A load from S3
   hashes the object as it streams, copies it server-side to its snapshot, and streams the
   snapshot through the reader; the local load copies the file to its snapshot and reads that.
   With --repeat N, each kind loads N times (alternating which goes first), and the best counts.
3. Prints each load's seconds, the S3/local ratio (target at most 1.3) and the peak RSS of
   each `manage.py ingest` process; and the S3 load's peak RSS at a tenth of the rows, to show
   that memory stays flat as the object grows (it is never held whole in memory or on disk).
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from generate import write_sales_file  # noqa: E402
from run import PYTHON, fresh_database, run_measured  # noqa: E402

BUCKET = "bench-bucket"
PREFIX = "drop/"
AWS = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}


def moto_start(work: Path) -> tuple[subprocess.Popen, str]:
    from orders.tests.s3 import free_port

    port = free_port()
    log = open(work / "moto.log", "wb")
    server = subprocess.Popen(
        [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], stdout=log, stderr=subprocess.STDOUT
    )
    endpoint = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            return server, endpoint
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"moto's server did not start; see {work / 'moto.log'}")


def s3_client(endpoint: str):
    import boto3

    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint, region_name=AWS["AWS_DEFAULT_REGION"],
        aws_access_key_id=AWS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=AWS["AWS_SECRET_ACCESS_KEY"],
    )


def env_for(database_url: str, work: Path, name: str, *, bucket_url: str, endpoint: str) -> dict:
    """A manage.py environment of its own: local bucket, snapshot and log folders under work/name."""
    home = work / name
    for folder in ("bucket", "snapshots", "logs"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "BUCKET_URL")}
    env.update(AWS)
    env.update({
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "salesproject.settings.local",
        "LOG_DIR": str(home / "logs"),
        "BUCKET_DIR": str(home / "bucket"),
        "INGEST_SNAPSHOT_DIR": str(home / "snapshots"),
        "AWS_ENDPOINT_URL": endpoint,
    })
    if bucket_url:
        env["BUCKET_URL"] = bucket_url
    return env


CREATED: list[str] = []  # the PostgreSQL databases this run made, dropped at the end


def database(args, name: str, work: Path) -> str:
    if args.sqlite:
        return f"sqlite:///{work / (name + '.sqlite3')}"
    CREATED.append(name)
    return fresh_database(args.pg, name)


def databases_drop(pg: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as connection:
        for name in CREATED:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


def load(env: dict) -> tuple[float, float, str]:
    run_measured([PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"], env)
    return run_measured([PYTHON, "manage.py", "ingest", "--no-progress"], env)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--sqlite", action="store_true", help="Load into SQLite files instead of PostgreSQL.")
    parser.add_argument("--no-gzip", action="store_true", help="Skip the .csv.gz pair.")
    parser.add_argument("--repeat", type=int, default=1, help="Loads of each kind (alternating); the best counts.")
    parser.add_argument("--no-flat", action="store_true", help="Skip the memory check at a tenth of the rows.")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="salesproject-s3-bench-"))
    print(f"Generating a {args.rows:,}-row file in {work} ...", flush=True)
    source = write_sales_file(
        work / "sales_data_2024-06-01.csv", rows=args.rows, first_order=1, existing_share=0, existing_upto=0, seed=1
    )
    files = [source]
    if not args.no_gzip:
        zipped = work / "sales_data_2024-06-02.csv.gz"
        subprocess.run(f"gzip -c -1 {source} > {zipped}", shell=True, check=True)
        files.append(zipped)
    small = None
    if not args.no_flat:
        small = write_sales_file(
            work / "sales_data_2024-06-03.csv", rows=max(args.rows // 10, 1), first_order=1, existing_share=0,
            existing_upto=0, seed=2,
        )
    server, endpoint = moto_start(work)
    try:
        client = s3_client(endpoint)
        client.create_bucket(Bucket=BUCKET)
        results = []
        for index, path in enumerate(files):
            client.upload_file(str(path), BUCKET, PREFIX + path.name)
            best = {"local": (float("inf"), 0.0), "s3": (float("inf"), 0.0)}
            for round_ in range(args.repeat):
                # Alternate which goes first, so that a warming database or page cache favours neither.
                for mode in ("local", "s3") if round_ % 2 == 0 else ("s3", "local"):
                    name = f"{mode}-{index}-{round_}"
                    env = env_for(database(args, f"bench_s3_{mode}_{index}_{round_}", work), work, name,
                                  bucket_url=f"s3://{BUCKET}/{PREFIX}" if mode == "s3" else "", endpoint=endpoint)
                    if mode == "local":
                        shutil.copy(path, Path(env["BUCKET_DIR"]) / path.name)
                    seconds, rss, output = load(env)
                    print(f"[{mode}] {output.strip()}", flush=True)
                    if mode == "s3":
                        leftovers = os.listdir(Path(env["BUCKET_DIR"])) + os.listdir(Path(env["INGEST_SNAPSHOT_DIR"]))
                        assert not leftovers, f"the S3 load wrote local files: {leftovers}"
                    best[mode] = min(best[mode], (seconds, rss))
            client.delete_object(Bucket=BUCKET, Key=PREFIX + path.name)
            results.append((path.name, path.stat().st_size, best["local"][0], best["s3"][0], best["local"][1],
                            best["s3"][1]))
        small_rss = None
        if small is not None:
            client.upload_file(str(small), BUCKET, PREFIX + small.name)
            small_env = env_for(database(args, "bench_s3_small", work), work, "s3-small",
                                bucket_url=f"s3://{BUCKET}/{PREFIX}", endpoint=endpoint)
            _seconds, small_rss, _out = load(small_env)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if CREATED:
            databases_drop(args.pg)

    backend = "SQLite" if args.sqlite else "PostgreSQL"
    print()
    print(f"{backend}, {args.rows:,} rows, manage.py ingest from the bucket (S3: moto's server on this machine), "
          f"best of {args.repeat}")
    print("| file | MB | local s | S3 s | S3 / local | local peak RSS MB | S3 peak RSS MB |")
    print("|---|---|---|---|---|---|---|")
    for name, size, local_seconds, s3_seconds, local_rss, s3_rss in results:
        print(f"| {name} | {size / 1e6:.0f} | {local_seconds:.1f} | {s3_seconds:.1f} | "
              f"{s3_seconds / local_seconds:.2f} | {local_rss:.0f} | {s3_rss:.0f} |")
    if small_rss is not None:
        print(f"\nS3 peak RSS at {max(args.rows // 10, 1):,} rows: {small_rss:.0f} MB "
              f"(at {args.rows:,}: {results[0][5]:.0f} MB)")
    print(f"\nFiles and logs: {work}")


if __name__ == "__main__":
    main()
