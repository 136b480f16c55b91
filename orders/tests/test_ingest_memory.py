"""Memory stays flat whatever the file: a tiny gzip whose second line unpacks to 128 MiB.

`manage.py ingest` runs in a child process of its own (on a SQLite database of its own), and
its peak RSS is measured there. Before lines had a limit, this file took over a gigabyte.
"""

import gzip
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from orders.ingest import reasons
from orders.ingest.reader import MAX_LINE_CHARS

PROJECT_DIR = Path(__file__).resolve().parents[2]
HEADER = b"order_id,customer_id,product_id,quantity,price,order_date\n"
LONG_LINE_BYTES = 128 * 1024 * 1024
PEAK_RSS_LIMIT_MB = 300

# Runs the command as its own child, so the peak it reports is the command's alone.
_MEASURED = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
sys.exit(done.returncode)
"""


def _manage(*args: str, database: Path, measured: bool = False) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=f"sqlite:///{database}", DJANGO_SETTINGS_MODULE="salesproject.settings.test")
    command = [sys.executable, "manage.py", *args]
    if measured:
        command = [sys.executable, "-c", _MEASURED, *command]
    return subprocess.run(command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300)


def _gzip_with_a_long_second_line(path: Path) -> None:
    block = b"9" * (1024 * 1024)
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(HEADER + b"1001,501,")
        for _ in range(LONG_LINE_BYTES // len(block)):
            out.write(block)
        out.write(b",2,25.50,2024-01-10\n1002,502,302,1,9.99,2024-01-11\n")


def test_manage_py_ingest_of_a_gzip_with_a_128_mib_line_stays_small_and_rejects_that_one_line(tmp_path):
    database = tmp_path / "memory.sqlite3"
    migrated = _manage("migrate", "-v0", database=database)
    assert migrated.returncode == 0, migrated.stderr
    path = tmp_path / "sales_data_2024-01-11.csv.gz"
    _gzip_with_a_long_second_line(path)
    assert path.stat().st_size < 1024 * 1024

    ingested = _manage("ingest", "--no-progress", str(path), database=database, measured=True)

    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    peak_mb = int(ingested.stdout.strip().splitlines()[-1])
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"manage.py ingest peaked at {peak_mb} MB"
    with sqlite3.connect(database) as connection:
        rejected = connection.execute("SELECT line_number, length(raw), reason, message FROM orders_rejectedrow").fetchall()
        orders = connection.execute("SELECT order_id FROM orders_order").fetchall()
    long_line_chars = len("1001,501,") + LONG_LINE_BYTES + len(",2,25.50,2024-01-10")
    assert rejected == [
        (2, MAX_LINE_CHARS, reasons.LINE_TOO_LONG,
         reasons.LINE_TOO_LONG_MESSAGE.format(length=long_line_chars, limit=MAX_LINE_CHARS)),
    ]
    assert orders == [("1002",)]
