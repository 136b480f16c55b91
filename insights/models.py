from django.conf import settings
from django.db import models


class Insight(models.Model):
    """One answer to "Quick Insights" for one data snapshot, date range, model and prompt version.

    Regenerating adds the next generation for the same key; the older ones stay as history.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        # No answer was made (the data moved on before the facts were computed, or the task ran
        # out of time first): the next request for this snapshot asks again.
        FAILED = "failed", "Failed"

    class Source(models.TextChoices):
        OPENAI = "openai", "OpenAI"
        FACTS = "facts", "Computed from the data"

    # The snapshot: the data version the facts were computed from, and the date range.
    data_version = models.BigIntegerField()
    data_changed_at = models.DateTimeField(null=True, blank=True, help_text="When the data version last moved.")
    range_start = models.DateField(null=True, blank=True)
    range_end = models.DateField(null=True, blank=True)
    # range_start..range_end as text, "" for an open end: NULLs would never collide in the unique constraint.
    range_key = models.CharField(max_length=32)
    model = models.CharField(
        max_length=100,
        blank=True,
        help_text="Empty when written from the facts with no call: no API key, or the asker's call budget spent.",
    )
    prompt_version = models.CharField(max_length=32)
    generation = models.PositiveIntegerField(default=1)
    is_regeneration = models.BooleanField(default=False, help_text="Asked for with Regenerate (rate-limited).")

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=16, choices=Source.choices, blank=True)
    markdown = models.TextField(blank=True)
    answer_raw = models.TextField(blank=True, help_text="The model's answer before the number check.")
    facts = models.JSONField(default=dict, blank=True)
    unverified_numbers = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    total_tokens = models.PositiveIntegerField(null=True, blank=True)
    api_calls = models.PositiveIntegerField(default=0, help_text="Calls made, retries included.")
    duration = models.DurationField(null=True, blank=True)
    error = models.TextField(blank=True)

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField()
    # Moved on each time the generation is handed to a task: a stale claim is handed out again.
    claimed_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        constraints = [
            # The one-call-per-snapshot guarantee: however many requests arrive at once,
            # one INSERT wins and only its request dispatches the generation.
            models.UniqueConstraint(
                fields=["data_version", "range_key", "model", "prompt_version", "generation"],
                name="insight_one_per_snapshot_generation",
            ),
        ]
        indexes = [models.Index(fields=["requested_by", "is_regeneration", "requested_at"])]

    def __str__(self):
        return f"Insight {self.range_label} on data version {self.data_version} ({self.get_status_display()})"

    @property
    def range_label(self) -> str:
        if self.range_start is None and self.range_end is None:
            return "all time"
        return f"{self.range_start or '…'} to {self.range_end or '…'}"
