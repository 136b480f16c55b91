"""Write large messy sales files for the benchmark: semicolons, decimal commas, a few bad rows."""

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

HEADER = "order_id;customer_id;product_id;quantity;price;order_date\n"
BAD_ROW_EVERY = 10_000  # one bad row in ten thousand: each must be rejected, not loaded


def _row(rng: random.Random, order_number: int, start: date) -> str:
    customer = rng.randrange(1, 50_001)
    product = rng.randrange(1, 5_001)
    quantity = rng.randrange(1, 10)
    cents = rng.randrange(100, 100_000)
    day = start + timedelta(days=rng.randrange(0, 365))
    return f"ORD{order_number:08d};C{customer:05d};SKU-{product:04d};{quantity};{cents // 100},{cents % 100:02d};{day.isoformat()}\n"


def _bad_row(rng: random.Random, order_number: int) -> str:
    return rng.choice(
        [
            f"ORD{order_number:08d};C00001;SKU-0001;abc;10,00;2024-01-01\n",
            f"ORD{order_number:08d};C00001;SKU-0001;1;;2024-01-01\n",
            f"ORD{order_number:08d};C00001;SKU-0001;1;10,00;2024-02-30\n",
        ]
    )


def write_sales_file(path: Path, *, rows: int, first_order: int, existing_share: float, existing_upto: int, seed: int):
    """Write rows orders; existing_share of them reuse order numbers below existing_upto (updates)."""
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(HEADER)
        new_number = first_order
        for index in range(rows):
            if index % BAD_ROW_EVERY == BAD_ROW_EVERY - 1:
                out.write(_bad_row(rng, 900_000_000 + index))
                continue
            if existing_upto and rng.random() < existing_share:
                number = rng.randrange(1, existing_upto)
            else:
                number = new_number
                new_number += 1
            out.write(_row(rng, number, start))
    return path


def benchmark_files_write(folder: Path, rows: int) -> tuple[Path, Path]:
    """The benchmarks' two files: a first load of all-new orders, and an update (30% existing orders)."""
    first = write_sales_file(
        folder / "sales_data_2024-06-01.csv", rows=rows, first_order=1, existing_share=0, existing_upto=0, seed=1
    )
    update = write_sales_file(
        folder / "sales_data_2024-06-02.csv",
        rows=rows, first_order=rows + 1, existing_share=0.3, existing_upto=rows, seed=2,
    )
    return first, update


def clean_form(messy: Path, clean: Path) -> int:
    """Write the file's valid rows, last line per order, in plain CSV: the baseline's input."""
    latest: dict[str, list[str]] = {}
    with open(messy, encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream, delimiter=";")
        next(reader)
        for order_id, customer, product, quantity, price, day in reader:
            if not quantity.isdigit() or not price or day.endswith("02-30"):
                continue
            latest[order_id] = [order_id, customer, product, quantity, price.replace(",", "."), day]
    with open(clean, "w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(latest.values())
    return len(latest)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clean-form", type=Path, metavar="CLEAN", help="Write FOLDER (a messy file) in clean form to CLEAN.")
    args = parser.parse_args()
    if args.clean_form:
        clean_form(args.folder, args.clean_form)
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    print(*benchmark_files_write(args.folder, args.rows))


if __name__ == "__main__":
    main()
