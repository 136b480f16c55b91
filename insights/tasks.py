import time

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from salesproject.retries import retry_backoff_seconds

from .llm import InsightCallRetryable

# The backoff doubles from INSIGHTS_RETRY_BACKOFF_SECONDS up to this.
RETRY_BACKOFF_MAX_SECONDS = 60.0


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=settings.INSIGHTS_TASK_SOFT_TIME_LIMIT,
    time_limit=settings.INSIGHTS_TASK_TIME_LIMIT,
)
def insight_generate_task(self, insight_id: int) -> dict:
    """Generate one pending insight; retry 429s, 5xx and timeouts with backoff, then fall back to the facts."""
    from .services import insight_generate, insight_generate_out_of_time

    max_retries = settings.INSIGHTS_MAX_RETRIES
    retries = self.request.retries
    while True:
        try:
            insight = insight_generate(insight_id=insight_id, final_attempt=retries >= max_retries)
        except InsightCallRetryable as error:
            countdown = retry_backoff_seconds(
                retries=retries, base=settings.INSIGHTS_RETRY_BACKOFF_SECONDS, cap=RETRY_BACKOFF_MAX_SECONDS
            )
            if not self.request.is_eager:
                raise self.retry(exc=error, countdown=countdown, max_retries=max_retries) from error
            # In-process (no broker) Celery cannot schedule a retry for later: wait and call again here.
            time.sleep(countdown)
            retries += 1
        except SoftTimeLimitExceeded:
            insight = insight_generate_out_of_time(insight_id=insight_id)
            break
        else:
            break
    return {"insight_id": insight.pk, "status": insight.status, "source": insight.source}


@shared_task
def insights_pregenerate_after_load_task() -> int | None:
    """Pre-generate the all-time insight after a load that changed data (INSIGHTS_PREGENERATE_AFTER_LOAD)."""
    from .services import insights_pregenerate_after_load

    insight = insights_pregenerate_after_load()
    return insight.pk if insight else None
