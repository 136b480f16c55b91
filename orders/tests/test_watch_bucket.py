"""`watch_bucket` on the embedded defaults: a file dropped while it runs is loaded in-process."""

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def _env(tmp_path: Path, bucket: Path) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "salesproject.settings.local",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'watch.sqlite3'}",
            "BUCKET_DIR": str(bucket),
            "LOG_DIR": str(tmp_path / "logs"),
            "INGEST_SETTLE_SECONDS": "0.5",
        }
    )
    return env


def _loaded_orders(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT order_id, quantity FROM orders_order ORDER BY order_id").fetchall()


def test_watch_bucket_loads_a_file_dropped_while_it_runs_without_a_broker(tmp_path):
    bucket = tmp_path / "bucket"
    bucket.mkdir()
    env = _env(tmp_path, bucket)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    watcher = subprocess.Popen(
        [sys.executable, "manage.py", "watch_bucket"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert watcher.stdout.readline().startswith("Watching")
        (bucket / "sales_data_2024-03-01.csv").write_text(HEADER + "A1,C1,P1,3,9.99,2024-03-01\n")
        deadline = time.monotonic() + 30
        orders = []
        while time.monotonic() < deadline and not orders:
            time.sleep(0.3)
            orders = _loaded_orders(tmp_path / "watch.sqlite3")
        assert orders == [("A1", 3)]
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
