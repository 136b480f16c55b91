"""Rollups of the orders kept exact by database triggers (reports/rollups.py), packed sums kept lazily (reports/packs.py), and the permission.

Money is kept in integer cents: SQLite stores decimals as floating point, and a sum of
floats is not exact to the cent. Rows are never deleted when their orders move away: a row
whose `orders` fell to 0 stands for nothing, and every read filters on `orders > 0`.
"""

from django.db import models

from orders.models import Customer, Product


class Dashboard(models.Model):
    """No table: only carries the permission to see the reports dashboard and its API."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_dashboard", "Can view the reports dashboard and its API")]


class Sums(models.Model):
    """What every rollup row keeps: revenue in cents, quantity and the number of orders."""

    revenue_cents = models.BigIntegerField(default=0)
    quantity = models.BigIntegerField(default=0)
    orders = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class SalesDay(Sums):
    """Every order of one day: revenue, orders and quantity, for any date range and the monthly trend."""

    day = models.DateField(primary_key=True)
    # The day's orders: the sum of Order.order_count (1 on the first line of each sales order).
    # `orders` counts the day's order lines, and says whether the day has any.
    order_count = models.BigIntegerField(default=0)
    # Order rows written on this day, ever: any write moves it, even one that leaves the
    # sums as they were (an order moved to another customer). A pack of sums is fresh while
    # its days' counts add up to the count it was packed at.
    changes = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.day}: {self.orders} orders"


class PackedSums(models.Model):
    """The orders of a span of days (a day, a half month or a month), summed per customer or per product, packed.

    A range's top 5 and its count of customers add up a few packs in memory
    (reports.packing): at 10M orders three months are three packs of 550 KB, where the
    rollups would sum 150,000 month rows in SQL. Kept lazily, not by the triggers: a pack
    stored under an older count of changes than its days' SalesDay.changes add up to is
    packed again (a day from its orders, a half from its days, a month from its halves),
    on read and after each load (reports.packs.packed_sums_get).
    """

    class Entity(models.TextChoices):
        CUSTOMER = "customer"
        PRODUCT = "product"

    entity = models.CharField(max_length=8, choices=Entity.choices)
    first_day = models.DateField()
    last_day = models.DateField()
    changes = models.BigIntegerField()  # the sum of SalesDay.changes over the span, when packed
    sums = models.BinaryField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["entity", "first_day", "last_day"], name="packedsums_span_unique")]
        verbose_name_plural = "packed sums"

    def __str__(self):
        return f"{self.entity} sums of {self.first_day} to {self.last_day}"


class CustomerTotal(Sums):
    """One customer's orders of all time: the all-time top lists read a few index entries."""

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["-revenue_cents"], name="reports_custtotal_revenue"),
            models.Index(fields=["-quantity"], name="reports_custtotal_quantity"),
        ]

    def __str__(self):
        return f"customer {self.customer_id}: {self.orders} orders"


class ProductTotal(Sums):
    """One product's orders of all time."""

    product = models.OneToOneField(
        Product, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["-revenue_cents"], name="reports_prodtotal_revenue"),
            models.Index(fields=["-quantity"], name="reports_prodtotal_quantity"),
        ]

    def __str__(self):
        return f"product {self.product_id}: {self.orders} orders"


class OrderDelta(models.Model):
    """SQLite only: the signed change of one order row, written by a row trigger, folded into the rollups on read.

    SQLite has only row-level triggers, and five upserts per row made a million-row load
    ten times slower; one plain insert per row is cheap, and the fold is set-based. On
    PostgreSQL the statement-level triggers update the rollups at once and this stays empty.
    """

    # A plain INTEGER PRIMARY KEY (SQLite's rowid): an AutoField's AUTOINCREMENT would also
    # update sqlite_sequence on every insert.
    id = models.IntegerField(primary_key=True)
    order_date = models.DateField()
    customer_id = models.BigIntegerField(null=True)
    product_id = models.BigIntegerField(null=True)
    quantity = models.BigIntegerField()
    revenue_cents = models.BigIntegerField()
    orders = models.BigIntegerField()
    order_count = models.BigIntegerField(default=0)

    def __str__(self):
        return f"{self.order_date}: {self.orders:+d} order(s)"


class OrderFoldMark(models.Model):
    """SQLite only, one row: the highest order id whose inserts are in the rollups.

    A new order gets an id above it, so its insert needs no log: the fold reads the orders
    above the mark straight from orders_order (by primary key) and moves the mark on. The
    triggers log only rows at or below the mark (an update or delete of a folded order, an
    insert with an explicit old id). A million-row first load then logs nothing: the row
    trigger's insert into reports_orderdelta was about 4 s of a 60 s SQLite load.
    """

    id = models.IntegerField(primary_key=True, default=1)
    last_order_id = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="reports_foldmark_single_row")]

    def __str__(self):
        return f"orders folded up to id {self.last_order_id}"
