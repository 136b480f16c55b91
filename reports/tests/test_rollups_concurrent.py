"""Two loads touching the same months, customers and orders at the same time: the rollups stay exact."""

import random
import threading
from datetime import date, timedelta

import pytest
from django.db import connection

from orders.services.import_runs import sales_file_ingest

from .raw import report_all, report_all_from_selectors

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "order_id,customer_id,product_id,quantity,price,order_date\n"


def _file(path, *, seed: int, rows: int = 400):
    rng = random.Random(seed)
    lines = [
        f"ORD{rng.randrange(1, 600)},C{rng.randrange(1, 30)},P{rng.randrange(1, 8)},{rng.randrange(1, 9)},"
        f"{rng.randrange(0, 50_000) / 100:.2f},{date(2024, 1, 20) + timedelta(days=rng.randrange(0, 60))}\n"
        for _ in range(rows)
    ]
    path.write_text(HEADER + "".join(lines))
    return path


def test_concurrent_loads_keep_every_report_exact(tmp_path):
    if connection.vendor != "postgresql":
        # SQLite has one writer at a time, and the test database's shared in-memory cache
        # fails a second writer at once instead of waiting.
        pytest.skip("concurrent writers need PostgreSQL")
    files = [_file(tmp_path / f"sales_data_2024-03-0{n}.csv", seed=n) for n in (1, 2, 3, 4)]
    errors = []
    barrier = threading.Barrier(len(files))

    def load(path):
        try:
            barrier.wait()
            sales_file_ingest(path=path)
        except Exception as error:  # reported below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=load, args=(path,)) for path in files]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    for start, end in [(None, None), (date(2024, 2, 1), date(2024, 2, 29)), (date(2024, 1, 25), date(2024, 3, 5))]:
        assert report_all_from_selectors(start=start, end=end) == report_all(start=start, end=end)
