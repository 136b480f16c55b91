"""Write large messy sales files for the benchmarks: semicolons, decimal commas, a few bad rows.

Two shapes: the seed's (one row per order: order_id, customer_id, product_id, quantity, price,
order_date) and line files (one row per order line: the same columns and a line_no column).
"""

import argparse
import csv
import random
from datetime import date, timedelta
from pathlib import Path

HEADER = "order_id;customer_id;product_id;quantity;price;order_date\n"
BAD_ROW_EVERY = 10_000  # one bad row in ten thousand: each must be rejected, not loaded
PRODUCTS = 5_000


def product_of_order(order_number: int) -> int:
    """The product an update file gives an existing order, the same each time the order comes.

    An order repeated in one file with the same product is a correction (the last row wins);
    with different products it would be evidence of a line file, and the seed-shaped
    benchmark would no longer measure a file of one row per order.
    """
    return 1 + (order_number * 2_654_435_761) % PRODUCTS


def _row(rng: random.Random, order_number: int, start: date, *, product: int | None = None) -> str:
    customer = rng.randrange(1, 50_001)
    drawn = rng.randrange(1, PRODUCTS + 1)  # drawn even when given, so the other values stay as they were
    product = product or drawn
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
                out.write(_row(rng, number, start, product=product_of_order(number)))
            else:
                out.write(_row(rng, new_number, start))
                new_number += 1
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


LINE_HEADER = "order_id;line_no;customer_id;product_id;quantity;price;order_date\n"
# How many lines an order has, 1 to 10: 4.8 on average, so 1,000,000 lines are about 208,000 orders.
LINES_PER_ORDER_WEIGHTS = (14, 13, 12, 11, 10, 10, 9, 8, 7, 6)


def _line(rng: random.Random) -> list[int]:
    """A line's [quantity, price in cents]; its product is chosen by the order."""
    return [rng.randrange(1, 10), rng.randrange(100, 100_000)]


def _order_changed(rng: random.Random, products: list[int], lines: list[list[int]]) -> None:
    """Change an order's lines in place: drop some, add some, or change a line's quantity and price."""
    kind = rng.randrange(3)
    if kind == 0 and len(lines) > 1:  # fewer lines: the later ones move up (renumbered 1..n)
        for _ in range(rng.randrange(1, len(lines))):
            drop = rng.randrange(len(lines))
            del products[drop], lines[drop]
    elif kind == 1 and len(lines) < len(LINES_PER_ORDER_WEIGHTS):  # more lines, new products
        for _ in range(rng.randrange(1, len(LINES_PER_ORDER_WEIGHTS) - len(lines) + 1)):
            product = rng.randrange(1, PRODUCTS + 1)
            if product not in products:
                products.append(product)
                lines.append(_line(rng))
    else:  # the same lines, one of them with another quantity and price
        lines[rng.randrange(len(lines))] = _line(rng)


def _line_text(order_number: int, line_no: int, customer: int, product: int, line: list[int], day: date) -> str:
    quantity, cents = line
    return (
        f"ORD{order_number:08d};{line_no};C{customer:05d};SKU-{product:04d};{quantity};"
        f"{cents // 100},{cents % 100:02d};{day.isoformat()}\n"
    )


def write_line_files(first_path: Path, update_path: Path, *, lines: int, changed_share: float = 0.3, seed: int = 5):
    """Write a line file of about `lines` lines (orders of 1 to 10 lines) and an updated version of it.

    The update carries every order of the first file; changed_share of them change their lines
    (fewer lines, more lines, or another quantity and price on one line), the rest are as before.
    Each order's lines name different products, so repeated order ids are evidence of a line
    file even without the line_no column. Bad rows (1 in BAD_ROW_EVERY) are one-line orders of
    their own, so rejecting one leaves every other order whole.
    """
    rng = random.Random(seed)
    start = date(2024, 1, 1)
    sizes = range(1, len(LINES_PER_ORDER_WEIGHTS) + 1)
    written = {first_path: 0, update_path: 0}
    with open(first_path, "w", encoding="utf-8", newline="") as first, open(
        update_path, "w", encoding="utf-8", newline=""
    ) as update:
        outs = {first_path: first, update_path: update}
        for out in outs.values():
            out.write(LINE_HEADER)
        number = 0
        while written[first_path] < lines:
            number += 1
            size = min(rng.choices(sizes, LINES_PER_ORDER_WEIGHTS)[0], lines - written[first_path])
            customer = rng.randrange(1, 50_001)
            day = start + timedelta(days=rng.randrange(0, 365))
            products = rng.sample(range(1, PRODUCTS + 1), size)
            order_lines = [_line(rng) for _ in products]
            versions = {first_path: (list(products), [list(line) for line in order_lines])}
            if rng.random() < changed_share:
                _order_changed(rng, products, order_lines)
            versions[update_path] = (products, order_lines)
            for path, (order_products, these_lines) in versions.items():
                out = outs[path]
                for line_no, (product, line) in enumerate(zip(order_products, these_lines), start=1):
                    out.write(_line_text(number, line_no, customer, product, line, day))
                    written[path] += 1
                    if written[path] % BAD_ROW_EVERY == 0:
                        out.write(_bad_row(rng, 900_000_000 + written[path]).replace(";", ";1;", 1))
    return first_path, update_path


def line_files_write(folder: Path, lines: int) -> tuple[Path, Path]:
    """The line benchmark's two files: a first load, and the same orders a day later, 30% of them changed."""
    folder.mkdir(parents=True, exist_ok=True)
    return write_line_files(folder / "sales_data_2024-06-01.csv", folder / "sales_data_2024-06-02.csv", lines=lines)


def line_clean_form(messy: Path, clean: Path) -> int:
    """Write a line file's valid rows in plain CSV (order_id, line_no, ...): the line baseline's input."""
    written = 0
    with open(messy, encoding="utf-8", newline="") as stream, open(clean, "w", encoding="utf-8", newline="") as out:
        reader = csv.reader(stream, delimiter=";")
        next(reader)
        writer = csv.writer(out)
        for order_id, line_no, customer, product, quantity, price, day in reader:
            if not quantity.isdigit() or not price or day.endswith("02-30"):
                continue
            writer.writerow([order_id, line_no, customer, product, quantity, price.replace(",", "."), day])
            written += 1
    return written


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lines", action="store_true", help="Write the line benchmark's files (--rows lines each).")
    parser.add_argument("--clean-form", type=Path, metavar="CLEAN", help="Write FOLDER (a messy file) in clean form to CLEAN.")
    args = parser.parse_args()
    if args.clean_form:
        (line_clean_form if args.lines else clean_form)(args.folder, args.clean_form)
        return
    args.folder.mkdir(parents=True, exist_ok=True)
    print(*(line_files_write if args.lines else benchmark_files_write)(args.folder, args.rows))


if __name__ == "__main__":
    main()
