import uuid

from django.conf import settings
from django.db import models
from django.db.models import Value
from simple_history.models import HistoricalRecords

from .ingest.reasons import REASON_LABELS


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Customer(TimeStampedModel):
    # Text, not integer: "00712" and "712" are two customers.
    customer_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["customer_id"]
        # A constraint rather than unique=True: PostgreSQL then keeps one index, not a
        # second LIKE index that every bulk insert would pay for.
        constraints = [models.UniqueConstraint(fields=["customer_id"], name="customer_customer_id_unique")]

    def __str__(self):
        return self.customer_id


class Product(TimeStampedModel):
    product_id = models.CharField(max_length=64)

    class Meta:
        ordering = ["product_id"]
        constraints = [models.UniqueConstraint(fields=["product_id"], name="product_product_id_unique")]

    def __str__(self):
        return self.product_id


class ImportRun(models.Model):
    """One version of one sales file (identified by its SHA-256) and what loading it did."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        RETRYING = "retrying", "Waiting to retry"
        LOADED = "loaded", "Loaded"
        FAILED = "failed", "Failed"

    class Failure(models.TextChoices):
        # The bytes cannot be read as a sales file: loading them again gives the same answer.
        FILE = "file", "The file cannot be read as a sales file"
        # Cured by the world, not by the file: the next scan loads it again once it can.
        MISSING = "missing", "The file is missing"
        UNREADABLE = "unreadable", "The file cannot be opened"
        DATABASE = "database", "The database failed"
        # Left to staff ("load again"): trying by itself could repeat for ever.
        TIME_LIMIT = "time_limit", "The load ran out of time"
        CRASH = "crash", "The load crashed"
        POISON = "poison", "The load killed its worker"
        # Most of the file's rows were rejected: nothing loaded until staff choose "Load anyway".
        TOO_MANY_REJECTED = "rejected", "Too many rows rejected"

    class BusinessDateSource(models.TextChoices):
        FILE_NAME = "file_name", "Date in the file name"
        GIVEN = "given", "Given by staff at upload"
        ARRIVAL = "arrival", "Time the file arrived"

    file_name = models.CharField(max_length=255)
    path = models.CharField(max_length=1024, help_text="Where the file was read from.")
    snapshot = models.CharField(
        max_length=1024, blank=True, help_text="The copy of this exact version that the load reads (content-addressed)."
    )
    size = models.BigIntegerField()
    lines = models.PositiveIntegerField(null=True, blank=True, help_text="Lines in the file (not known for gzip).")
    sha256 = models.CharField(max_length=64, unique=True)
    business_date = models.DateField(db_index=True)
    business_date_source = models.CharField(max_length=16, choices=BusinessDateSource.choices)
    received_at = models.DateTimeField()

    encoding = models.CharField(max_length=32, blank=True)
    delimiter = models.CharField(max_length=8, blank=True)
    trailing_junk = models.CharField(max_length=8, blank=True, help_text="A delimiter run trailing every line.")
    decimal_mark = models.CharField(max_length=1, blank=True)
    date_order = models.CharField(max_length=8, blank=True)
    header_mapping = models.JSONField(default=dict, blank=True)
    # What the file's rows are: one per order, or order lines; and what said so.
    grain = models.CharField(max_length=8, blank=True)
    grain_reason = models.CharField(max_length=500, blank=True)
    source_format = models.CharField(
        max_length=120, blank=True, help_text="The known export format or source profile the header was read by."
    )
    # Our column -> its position in the file's lines: a rejected line's values are placed in
    # their columns for repair without the file, which may be gone or in another host's bucket.
    column_positions = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # The rows that name a currency, by ISO code, the commonest first: {"EUR": 12, "USD": 3}. A sign
    # or code on a money value ("$" is read as USD, "¥" as JPY) or a currency column's value; rows
    # of plain numbers name none. Recorded only: nothing is converted.
    currencies = models.JSONField(
        default=dict,
        # In the table too: a run inserted by code that predates the column (a rolling deploy) is valid.
        db_default=Value({}, output_field=models.JSONField()),
        blank=True,
        help_text="Rows by the currency they name (a sign, code or currency column).",
    )

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    rows_read = models.PositiveIntegerField(default=0)
    inserted = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    superseded = models.PositiveIntegerField(
        default=0, help_text="Orders not written because a file with a later business date wrote them."
    )
    duplicates = models.PositiveIntegerField(default=0, help_text="Lines replaced by a later line of the same file.")
    rejected = models.PositiveIntegerField(default=0)
    conflicts = models.PositiveIntegerField(
        default=0, help_text="Orders that staff corrected and this file would have changed: kept aside for staff."
    )

    returns = models.PositiveIntegerField(default=0, help_text="Lines loaded as returns or refunds.")
    guests = models.PositiveIntegerField(default=0, help_text="Lines loaded of guest orders (no customer).")
    voided = models.PositiveIntegerField(
        default=0, help_text="Lines not loaded: their order was voided or cancelled, so it is not a sale."
    )
    removed = models.PositiveIntegerField(
        default=0, help_text="Stored lines deleted because this file's version of their order no longer has them."
    )
    load_anyway = models.BooleanField(
        default=False, help_text="Staff chose to load the file although most of its rows were rejected."
    )

    timings = models.JSONField(default=dict, blank=True, help_text="Seconds spent in each step.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    lost_attempts = models.PositiveIntegerField(
        default=0, help_text="Loads that never finished: their worker died (killed for memory, or the hard time limit)."
    )
    error = models.TextField(blank=True)
    failure = models.CharField(max_length=16, choices=Failure.choices, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="When the load was last queued.")
    next_retry_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"


class BucketFile(models.Model):
    """What the bucket scanner last saw at a path (or s3:// URL), so an unchanged file is not hashed again."""

    path = models.CharField(max_length=1024, unique=True)
    size = models.BigIntegerField()
    mtime_ns = models.BigIntegerField()
    # S3: the object's ETag. A row with no sha256 is an object seen but not settled yet.
    etag = models.CharField(max_length=200, blank=True, default="")
    sha256 = models.CharField(max_length=64)
    seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]

    def __str__(self):
        return self.path


class Order(TimeStampedModel):
    """One line of an order: an order is the set of rows that share its order_id.

    A file of one row per order stores one-line orders (line_no 1). The reports read these
    rows through triggers (reports/rollups.py): revenue is the sum of line_total, and orders
    the sum of order_count, which is 1 on the first line of each sales order.
    """

    order_id = models.CharField(max_length=64)
    # The line's place in its order, from 1; the lines of an order are 1..n.
    line_no = models.PositiveIntegerField(default=1)
    # NULL: a guest order (the source allows guest checkouts): it counts in revenue, orders,
    # products and months, never in the customer lists or counts.
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders", null=True, blank=True)
    # NULL: a refund the file gives for the whole order, on no product (Shopify's Refunded Amount).
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders", null=True, blank=True)
    # Negative: a returned quantity (the source allows returns); 0 only on a refund line.
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    # The line's amount, signed: what the reports add up. Quantity x unit price, or the file's
    # line-total column as it stands (never multiplied again, never rounded through a unit price).
    line_total = models.DecimalField(max_digits=20, decimal_places=2)
    # 1 on line 1 of a sales order (one with a line of positive quantity), else 0: the reports
    # count orders by adding it up, so a line or a return order is never counted as an order.
    order_count = models.SmallIntegerField(default=1)
    # Indexed in Meta.indexes, with the columns the reports sum (a covering index).
    order_date = models.DateField()
    # The fields whose columns the reports' rollup triggers read (reports/rollups.py, installed
    # by the reports migrations): renaming one, or changing what it holds, needs a reports
    # migration that installs the triggers again.
    ROLLUP_FIELDS = ("id", "customer", "product", "quantity", "line_total", "order_date", "order_count")

    # Where the stored values came from; source_business_date decides precedence.
    # No constraint or index: every upserted row would pay for them, and a run is only a label here.
    source_run = models.ForeignKey(
        ImportRun,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    source_file = models.CharField(max_length=255, blank=True)
    source_line = models.PositiveIntegerField(null=True, blank=True)
    source_business_date = models.DateField(null=True, blank=True)
    # Set when staff correct the line: from then on no file overwrites its order; a file that
    # disagrees is recorded as an OrderConflict for staff to resolve.
    corrected_at = models.DateTimeField(null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    history = HistoricalRecords()
    # Where the values came from and who corrected them when: the history row's own user,
    # date and reason say as much, so a diff between two history rows leaves these out.
    HISTORY_BOOKKEEPING_FIELDS = (
        "source_run", "source_file", "source_line", "source_business_date", "corrected_at", "corrected_by",
        "created_at", "updated_at",
    )

    class Meta:
        ordering = ["-order_date", "order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order_id", "line_no"], name="order_line_unique"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="order_unit_price_not_negative"),
            models.CheckConstraint(condition=models.Q(order_count__in=[0, 1]), name="order_count_zero_or_one"),
        ]
        # The loader looks for corrected orders in every load: a partial index keeps that to the few there are.
        indexes = [
            models.Index(fields=["order_id"], condition=models.Q(corrected_at__isnull=False), name="order_corrected"),
            # The lines after the first: a file that carries an order deletes those it no longer has,
            # and a shop of one-line orders has none, so the look-up costs nothing there.
            models.Index(fields=["order_id", "line_no"], condition=models.Q(line_no__gt=1), name="order_later_lines"),
            # PostgreSQL: the reports sum the orders of part of a month (a range that starts or
            # ends mid-month) from this index alone (an index-only scan), not from the table's
            # pages scattered over the disk (2.5 s at 10M orders). It replaces the plain
            # order_date index, so a write still updates one index for the date. SQLite
            # ignores INCLUDE: a plain order_date index there.
            models.Index(
                fields=["order_date"],
                include=["customer", "product", "quantity", "line_total", "order_count"],
                name="order_date_covering",
            ),
        ]
        # The codes django-import-export checks (IMPORT_EXPORT_*_PERMISSION_CODE = "import" / "export").
        permissions = [("import_order", "Can import orders"), ("export_order", "Can export orders")]

    def __str__(self):
        return self.order_id if self.line_no == 1 else f"{self.order_id} line {self.line_no}"


class SourceProfile(TimeStampedModel):
    """How to read the files of one source whose header our aliases cannot map: made by staff on the import preview.

    Matched by the header's signature (orders.ingest.formats.header_signature) on every later
    file, bucket files included.
    """

    class Grain(models.TextChoices):
        AUTO = "auto", "Decide from the file"
        ORDER = "order", "One row per order"
        LINE = "line", "One row per order line"

    name = models.CharField(max_length=100)
    header_signature = models.CharField(max_length=64, unique=True)
    headers = models.JSONField(default=list, help_text="The file's header, as it was seen.")
    columns = models.JSONField(default=dict, help_text="Our field -> the file's header name.")
    grain = models.CharField(max_length=8, choices=Grain.choices, default=Grain.AUTO)
    allow_returns = models.BooleanField(default=False, help_text="A negative quantity is a return line.")
    allow_guests = models.BooleanField(default=False, help_text="A row with no customer is a guest order.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ImportUpload(models.Model):
    """A file staff uploaded in the admin: stored under a name of ours, previewed, then confirmed as a run."""

    class Kind(models.TextChoices):
        CSV = "csv", "Delimited text"
        GZIP = "gzip", "Gzipped delimited text"
        XLSX = "xlsx", "Excel workbook"

    class Status(models.TextChoices):
        PREVIEWING = "previewing", "Preview being made"
        READY = "ready", "Preview ready"
        FAILED = "failed", "Cannot be read"
        CONFIRMED = "confirmed", "Confirmed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file_name = models.CharField(max_length=255, help_text="The name the file had on the uploader's computer.")
    stored = models.CharField(max_length=1024, help_text="Where we keep it: a name of ours, never the client's path.")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    size = models.BigIntegerField()
    business_date = models.DateField(null=True, blank=True, help_text="Given at upload, for a name without a date.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PREVIEWING)
    preview = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    run = models.ForeignKey(ImportRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="uploads")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.file_name


class OrderConflict(models.Model):
    """A file's values for an order that staff corrected: kept aside, never applied unasked."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        KEPT = "kept", "Kept the staff's values"
        TAKEN = "taken", "Took the file's values"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="conflicts")
    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="order_conflicts")
    line_number = models.PositiveIntegerField()
    customer_id = models.CharField(max_length=64, blank=True)  # blank: a guest
    product_id = models.CharField(max_length=64, blank=True)  # blank: a refund on no product
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    line_total = models.DecimalField(max_digits=20, decimal_places=2, null=True)
    order_date = models.DateField()
    business_date = models.DateField(help_text="The business date of the file that brought these values.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        # One conflict per order and run: loading a run again does not record it twice.
        constraints = [models.UniqueConstraint(fields=["order", "run"], name="order_conflict_once_per_run")]

    def __str__(self):
        return f"{self.order} from {self.run.file_name} line {self.line_number}"


class DataVersion(models.Model):
    """A single row whose version moves on whenever stored order values change.

    Reports and insights key their caches on it: a load that changes nothing leaves it as it is.
    """

    version = models.BigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="data_version_single_row")]

    def __str__(self):
        return f"data version {self.version}"


class RejectedRow(models.Model):
    """A line that could not be read without guessing: kept, never loaded, never dropped."""

    Reason = models.TextChoices("Reason", [(code.upper(), (code, label)) for code, label in REASON_LABELS.items()])

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"  # repaired by staff and loaded as an order
        DISMISSED = "dismissed", "Dismissed"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="rejected_rows")
    line_number = models.PositiveIntegerField()
    raw = models.TextField(help_text="The line as it stood in the file.")
    field = models.CharField(max_length=32, blank=True)
    reason = models.CharField(max_length=32, choices=Reason.choices)
    message = models.CharField(max_length=500)

    # Database defaults too: the loader may write rejected rows with SQL that names only its own columns.
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.OPEN, db_default=Status.OPEN, db_index=True
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Who repaired or dismissed the row.",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    dismissal_reason = models.CharField(max_length=500, blank=True, default="", db_default="")
    # The order the repair wrote, by its id: the order may be written again by later files.
    repaired_order_id = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        ordering = ["run", "line_number"]
        indexes = [models.Index(fields=["run", "line_number"])]

    def __str__(self):
        return f"line {self.line_number}: {self.message}"


class ExportJob(models.Model):
    """An export too big to write inside a web request: a worker writes the file, staff download it.

    An XLSX file of a million orders takes minutes to write (openpyxl, a few thousand rows a
    second), far beyond a web request's timeout. CSV streams and never needs one.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a worker"
        RUNNING = "running", "Being written"
        DONE = "done", "Ready to download"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file_format = models.CharField(max_length=8, help_text="The file's kind: xlsx.")
    file_name = models.CharField(max_length=255, help_text="The name the download gets.")
    # The admin's filtered queryset: Django documents pickling QuerySet.query to run it again
    # elsewhere. Only our web process writes it, from a queryset the admin built.
    query = models.BinaryField()
    headers = models.JSONField(default=list)
    lookups = models.JSONField(default=list)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    rows_expected = models.BigIntegerField(default=0)
    rows_done = models.BigIntegerField(default=0)
    stored = models.CharField(max_length=1024, blank=True, help_text="Where the written file is kept.")
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        default_permissions = ()

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"
