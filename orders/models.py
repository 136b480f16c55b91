from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


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
        LOADED = "loaded", "Loaded"
        FAILED = "failed", "Failed"

    class BusinessDateSource(models.TextChoices):
        FILE_NAME = "file_name", "Date in the file name"
        ARRIVAL = "arrival", "Time the file arrived"

    file_name = models.CharField(max_length=255)
    path = models.CharField(max_length=1024, help_text="Where the file was read from.")
    size = models.BigIntegerField()
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
    warnings = models.JSONField(default=list, blank=True)

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

    timings = models.JSONField(default=dict, blank=True, help_text="Seconds spent in each step.")
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.file_name} ({self.get_status_display()})"

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class BucketFile(models.Model):
    """What the bucket scanner last saw at a path, so an unchanged file is not hashed again."""

    path = models.CharField(max_length=1024, unique=True)
    size = models.BigIntegerField()
    mtime_ns = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)
    seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["path"]

    def __str__(self):
        return self.path


class Order(TimeStampedModel):
    order_id = models.CharField(max_length=64)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="orders")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="orders")
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    order_date = models.DateField(db_index=True)

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

    history = HistoricalRecords()

    class Meta:
        ordering = ["-order_date", "order_id"]
        constraints = [
            models.UniqueConstraint(fields=["order_id"], name="order_order_id_unique"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="order_quantity_positive"),
            models.CheckConstraint(condition=models.Q(unit_price__gte=0), name="order_unit_price_not_negative"),
        ]
        # The codes django-import-export checks (IMPORT_EXPORT_*_PERMISSION_CODE = "import" / "export").
        permissions = [("import_order", "Can import orders"), ("export_order", "Can export orders")]

    def __str__(self):
        return self.order_id

    @property
    def revenue(self):
        return self.quantity * self.unit_price


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

    class Reason(models.TextChoices):
        MISSING_VALUE = "missing_value", "Missing value"
        NOT_A_NUMBER = "not_a_number", "Not a number"
        FRACTIONAL_QUANTITY = "fractional_quantity", "Fractional quantity"
        QUANTITY_NOT_POSITIVE = "quantity_not_positive", "Quantity not positive"
        NEGATIVE_PRICE = "negative_price", "Negative price"
        PRICE_TOO_PRECISE = "price_too_precise", "Price has more than 2 decimals"
        NUMBER_TOO_LARGE = "number_too_large", "Number too large"
        UNREADABLE_DATE = "unreadable_date", "Unreadable date"
        IMPOSSIBLE_DATE = "impossible_date", "Impossible date"
        ID_TOO_LONG = "id_too_long", "Identifier too long"
        TOO_FEW_FIELDS = "too_few_fields", "Too few fields"
        TOO_MANY_FIELDS = "too_many_fields", "Too many fields"
        UNDECODABLE = "undecodable", "Undecodable text"

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
