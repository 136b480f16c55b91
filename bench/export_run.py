"""Measure the admin's order export (CSV and XLSX) over N orders on PostgreSQL.

    python bench/export_run.py                 # 1,000,000 orders
    python bench/export_run.py --rows 100000   # a quick look

Fills a fresh database (`--pg`, default postgres://postgres@127.0.0.1:5432, database
`salesproject_export_bench`) with N orders by SQL, then, in a child process per format,
posts the admin's export form through Django's test client and reads the response as a
browser would, chunk by chunk (a big XLSX export is a job: with no broker it is written
within the request, then downloaded from the job's page). Prints the time, the size of the file and the child's
peak memory (RSS), which stays flat as N grows when the export streams.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DATABASE = "salesproject_export_bench"

CHILD = r"""
import os, resource, sys, time
import django
django.setup()
from django.contrib.auth import get_user_model
from django.test import Client
from django.test.utils import setup_test_environment
setup_test_environment()
user, _ = get_user_model().objects.get_or_create(username="bench", defaults={"is_staff": True, "is_superuser": True})
client = Client()
client.force_login(user)
data = {"format": sys.argv[1], "resource": "0"}
for name in ("order_id", "line_no", "customer_id", "product_id", "quantity", "unit_price", "line_total", "order_date",
             "source_file", "source_line", "source_business_date"):
    data["orderresource_" + name] = "on"
started = time.perf_counter()
response = client.post("/admin/orders/order/export/", data)
if response.status_code == 302:  # a big XLSX: written by the job (in-process here), then downloaded
    response = client.get(response["Location"] + "download/")
size = 0
for chunk in response.streaming_content:
    size += len(chunk)
seconds = time.perf_counter() - started
print(f"{seconds:.1f} {size} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} {response.status_code}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", default="postgres://postgres@127.0.0.1:5432")
    args = parser.parse_args()
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")
        admin.execute(f"CREATE DATABASE {DATABASE}")
    env = {**os.environ, "DATABASE_URL": f"{args.pg}/{DATABASE}", "DJANGO_SETTINGS_MODULE": "salesproject.settings.test"}
    env.pop("REDIS_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    with psycopg.connect(f"{args.pg}/{DATABASE}", autocommit=True) as db:
        db.execute("""INSERT INTO orders_customer (customer_id, created_at, updated_at)
                      SELECT 'C' || n, now(), now() FROM generate_series(1, 50000) n""")
        db.execute("""INSERT INTO orders_product (product_id, created_at, updated_at)
                      SELECT 'P' || n, now(), now() FROM generate_series(1, 5000) n""")
        # One-line orders (orders/migrations/0014): line 1, counted as an order, quantity x price.
        db.execute(f"""INSERT INTO orders_order (order_id, line_no, customer_id, product_id, quantity, unit_price,
                           line_total, order_count, order_date, source_file, source_line, source_business_date,
                           created_at, updated_at)
                       SELECT n::text, 1, (SELECT min(id) FROM orders_customer) + n % 50000,
                              (SELECT min(id) FROM orders_product) + n % 5000, 1 + n % 7, (n % 10000) / 100.0,
                              (1 + n % 7) * ((n % 10000) / 100.0), 1,
                              date '2024-01-01' + n % 365, 'sales_data_2024-12-31.csv', n + 1, date '2024-12-31',
                              now(), now()
                       FROM generate_series(1, {args.rows}) n""")
        db.execute("ANALYZE")
    print(f"{args.rows:,} orders; export through the admin (PostgreSQL):")
    print("| format | seconds | file MB | peak RSS MB |")
    print("|---|---|---|---|")
    for name, position in (("csv", "0"), ("xlsx", "1")):
        output = subprocess.run([sys.executable, "-c", CHILD, position], cwd=ROOT, env=env, check=True,
                                capture_output=True, text=True).stdout.split()
        seconds, size, rss, status = output[-4:]
        assert status == "200", output
        print(f"| {name} | {seconds} | {int(size) / 1e6:.1f} | {rss} |")
    with psycopg.connect(f"{args.pg}/postgres", autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DATABASE}")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"({time.perf_counter() - started:.0f} s in all)")
