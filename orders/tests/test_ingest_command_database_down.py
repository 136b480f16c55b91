"""`manage.py ingest` when the database cannot be reached: one clear line and exit code 3.

The command checks the database before it looks at any file, so it neither hashes the
files one by one nor prints a failure per file, and its exit code tells an outage
apart from a file that failed (1) and a usage error (2). Each case runs a real
process pointed at a database that is not there; none needs a database of the suite's.
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"
DATABASE_UNREACHABLE_EXIT_CODE = 3
DATABASE_UNREACHABLE_PREFIX = "Cannot reach the database"
PASSWORD = "s3cret-Pa55"


def unused_port() -> int:
    """A port nothing listens on: the OS hands it out, and nobody binds it again this quickly."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def sales_files_write(folder: Path, count: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for day in range(1, count + 1):
        path = folder / f"sales_data_2024-03-{day:02d}.csv"
        path.write_text(HEADER + f"{1000 + day},C1,P1,1,9.99,2024-03-{day:02d}\n", encoding="utf-8")
        paths.append(path)
    return paths


def ingest_run(*args: str, database_url: str, tmp_path: Path, bucket: Path) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="salesproject.settings.test",
        TEST_LOG_DIR=str(tmp_path),
        DATABASE_URL=database_url,
        BUCKET_DIR=str(bucket),
    )
    return subprocess.run(
        [sys.executable, "manage.py", "ingest", "--no-progress", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120,
    )


def database_url_for(kind: str, tmp_path: Path) -> str:
    if kind == "postgres":
        # A password, to check that the message does not print it.
        return f"postgres://salesuser:{PASSWORD}@127.0.0.1:{unused_port()}/sales"
    # A SQLite file in a folder that does not exist cannot be opened.
    return f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}"


@pytest.mark.parametrize(
    ("database", "given"),
    [("postgres", "files"), ("postgres", "bucket"), ("sqlite", "files")],
    ids=["postgres-at-a-dead-port-files", "postgres-at-a-dead-port-bucket", "sqlite-in-a-missing-folder-files"],
)
def test_manage_py_ingest_with_the_database_unreachable_prints_one_line_and_exits_3(tmp_path, database, given):
    bucket = tmp_path / "bucket"
    paths = sales_files_write(bucket, 3)
    args = [str(path) for path in paths] if given == "files" else []

    finished = ingest_run(*args, database_url=database_url_for(database, tmp_path), tmp_path=tmp_path, bucket=bucket)

    output = f"stdout:\n{finished.stdout}\nstderr:\n{finished.stderr}"
    assert finished.returncode == DATABASE_UNREACHABLE_EXIT_CODE, output
    assert "Traceback" not in finished.stderr, output
    # One line in all, not one per file.
    assert finished.stdout.strip() == "", output
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith(DATABASE_UNREACHABLE_PREFIX), output
    assert PASSWORD not in finished.stderr

