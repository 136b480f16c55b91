"""Quick Insights: ask for an answer per data snapshot, generate it (in a task), regenerate it."""

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.selectors import data_version_get

from . import llm
from .fallback import fallback_markdown
from .models import Insight
from .number_check import numbers_check
from .prompt import PROMPT_VERSION, prompt_messages
from .selectors import insight_latest

logger = logging.getLogger("salesproject.app")

REGENERATE_LIMITED = "You have regenerated insights {limit} times in the last {minutes} minutes: try again later."
BUDGET_SPENT = (
    "You have asked for {limit} AI answers in the last hour: this answer is computed from the data, "
    "without AI. Ask again later for an AI answer."
)
# INSIGHTS_CALLS_PER_USER_PER_HOUR counts the generations each user asked for within this window.
MODEL_CALL_BUDGET_WINDOW = timedelta(hours=1)
TIME_LIMIT_ERROR = "The generation ran out of time."
DATA_MOVED_ON = "The data changed while the facts were being computed."
FACTS_ATTEMPTS = 3


class InsightRegenerateLimited(Exception):
    pass


class InsightBudgetSpent(Exception):
    """The user has started INSIGHTS_CALLS_PER_USER_PER_HOUR model calls within the last hour."""


@dataclass(frozen=True)
class Snapshot:
    """Exactly the data an answer is computed from: the data version and the date range."""

    data_version: int
    changed_at: object
    start: date | None
    end: date | None

    @property
    def range_key(self) -> str:
        return range_key_for(start=self.start, end=self.end)


def range_key_for(*, start: date | None, end: date | None) -> str:
    return f"{start.isoformat() if start else ''}..{end.isoformat() if end else ''}"


def snapshot_get(*, start: date | None, end: date | None) -> Snapshot:
    version = data_version_get()
    return Snapshot(data_version=version.version, changed_at=version.changed_at, start=start, end=end)


def insight_model_name() -> str:
    """The model answers come from; empty without a key, when the facts are written by templates."""
    return settings.OPENAI_MODEL if settings.OPENAI_API_KEY else ""


def insight_request(*, start: date | None = None, end: date | None = None, user=None) -> Insight:
    """Return the current answer for the range, asking for one when this snapshot has none yet.

    However many requests arrive at once, one INSERT wins the unique constraint and only that
    request dispatches the generation; the others get the pending row and poll it. A user whose
    model-call budget is spent gets the answer written from the facts (see insight_budget_notice).
    """
    snapshot = snapshot_get(start=start, end=end)
    try:
        return _insight_current(snapshot=snapshot, model=insight_model_name(), user=user)
    except InsightBudgetSpent:
        return _insight_from_facts(snapshot=snapshot, user=user)


def insight_regenerate(*, start: date | None = None, end: date | None = None, user) -> Insight:
    """Make a new call for the current snapshot; the older answers stay as history."""
    window = timedelta(seconds=settings.INSIGHTS_REGENERATE_WINDOW_SECONDS)
    recent = Insight.objects.filter(
        requested_by=user, is_regeneration=True, requested_at__gte=timezone.now() - window
    ).count()
    if recent >= settings.INSIGHTS_REGENERATE_LIMIT:
        raise InsightRegenerateLimited(
            REGENERATE_LIMITED.format(
                limit=settings.INSIGHTS_REGENERATE_LIMIT, minutes=settings.INSIGHTS_REGENERATE_WINDOW_SECONDS // 60
            )
        )
    snapshot = snapshot_get(start=start, end=end)
    model = insight_model_name()
    latest = insight_latest(
        data_version=snapshot.data_version, range_key=snapshot.range_key, model=model, prompt_version=PROMPT_VERSION
    )
    if latest is not None and latest.status == Insight.Status.PENDING:
        # One is being made right now: a second call would answer the same question again.
        return _insight_reclaim_if_stale(insight=latest)
    generation = latest.generation + 1 if latest else 1
    try:
        return _insight_ask(snapshot=snapshot, model=model, generation=generation, user=user, is_regeneration=True)
    except InsightBudgetSpent:
        return _insight_from_facts(snapshot=snapshot, user=user)


def insight_budget_notice(*, insight: Insight) -> str:
    """Return why this answer was written from the facts although a model is configured, or "".

    With a key, insight_request and insight_regenerate answer with the facts (model "") only when
    the user's model-call budget is spent.
    """
    if insight.model or not insight_model_name():
        return ""
    return BUDGET_SPENT.format(limit=settings.INSIGHTS_CALLS_PER_USER_PER_HOUR)


def insights_pregenerate_after_load() -> Insight | None:
    """Ask for the all-time insight after a load that changed data, when the setting allows the cost."""
    if not settings.INSIGHTS_PREGENERATE_AFTER_LOAD:
        return None
    return insight_request(start=None, end=None, user=None)


def _insight_current(*, snapshot: Snapshot, model: str, user) -> Insight:
    """Return the snapshot's answer from this model, asking for one when it has none (or it failed)."""
    latest = insight_latest(
        data_version=snapshot.data_version, range_key=snapshot.range_key, model=model, prompt_version=PROMPT_VERSION
    )
    if latest is None:
        return _insight_ask(snapshot=snapshot, model=model, generation=1, user=user, is_regeneration=False)
    if latest.status == Insight.Status.FAILED:
        return _insight_ask(
            snapshot=snapshot, model=model, generation=latest.generation + 1, user=user, is_regeneration=False
        )
    if latest.status == Insight.Status.PENDING:
        return _insight_reclaim_if_stale(insight=latest)
    return latest


def _insight_from_facts(*, snapshot: Snapshot, user) -> Insight:
    """The snapshot's answer written from the facts: the no-key answer, cached like any other, never a call."""
    return _insight_current(snapshot=snapshot, model="", user=user)


def _insight_ask(*, snapshot: Snapshot, model: str, generation: int, user, is_regeneration: bool) -> Insight:
    """Insert the pending generation and dispatch it; raise InsightBudgetSpent when it would be a call too many."""
    now = timezone.now()
    requester = user if user is not None and user.is_authenticated else None
    key = {
        "data_version": snapshot.data_version,
        "range_key": snapshot.range_key,
        "model": model,
        "prompt_version": PROMPT_VERSION,
        "generation": generation,
    }
    try:
        with transaction.atomic():
            # A pre-generation (no user) is not counted, and without a model there is no call.
            if model and requester is not None:
                _model_call_budget_check(user=requester, now=now)
            insight = Insight.objects.create(
                **key,
                data_changed_at=snapshot.changed_at,
                range_start=snapshot.start,
                range_end=snapshot.end,
                is_regeneration=is_regeneration,
                requested_by=requester,
                requested_at=now,
                claimed_at=now,
            )
    except IntegrityError:
        # Another request (tab, process) asked first: its generation is the one we wait for.
        return Insight.objects.get(**key)
    _insight_dispatch(insight_id=insight.pk)
    insight.refresh_from_db()
    return insight


def _model_call_budget_check(*, user, now) -> None:
    """Raise InsightBudgetSpent when the user's generations with a model in the last hour reach the limit.

    Call inside the transaction that inserts the generation: the user's row stays locked until it
    commits, so two requests at the limit cannot both pass (SQLite takes its write lock at BEGIN).
    """
    # Hold the user's row: the same user's next request waits here until this one commits.
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()
    asked = (
        Insight.objects.filter(requested_by=user, requested_at__gt=now - MODEL_CALL_BUDGET_WINDOW)
        .exclude(model="")
        .count()
    )
    if asked >= settings.INSIGHTS_CALLS_PER_USER_PER_HOUR:
        raise InsightBudgetSpent


def _insight_reclaim_if_stale(*, insight: Insight) -> Insight:
    """Hand a generation whose worker died to a new task; one request wins the conditional UPDATE."""
    stale_before = timezone.now() - timedelta(seconds=settings.INSIGHTS_STALE_AFTER_SECONDS)
    if insight.claimed_at >= stale_before:
        return insight
    claimed = Insight.objects.filter(
        pk=insight.pk, status=Insight.Status.PENDING, claimed_at=insight.claimed_at
    ).update(claimed_at=timezone.now())
    if claimed:
        logger.warning("insight %s: generation was stale, dispatching it again", insight.pk)
        _insight_dispatch(insight_id=insight.pk)
    insight.refresh_from_db()
    return insight


def _insight_dispatch(*, insight_id: int) -> None:
    from .tasks import insight_generate_task

    # After the commit: a worker must find the row, and the call must never run inside our transaction.
    transaction.on_commit(lambda: insight_generate_task.delay(insight_id))


def insight_generate(*, insight_id: int, final_attempt: bool = True) -> Insight:
    """Compute the facts and make the one API call for a pending insight; fall back to the facts.

    Raises InsightCallRetryable on a 429, 5xx or timeout unless this is the final attempt.
    """
    # A durable block refuses to open inside another transaction: the network call must never hold one.
    with transaction.atomic(durable=True):
        pass
    insight = Insight.objects.get(pk=insight_id)
    if insight.status != Insight.Status.PENDING:
        return insight  # Delivered twice: the first delivery answered it.
    facts = insight.facts or _facts_for_snapshot(insight=insight)
    if facts is None:
        return _insight_finish(insight=insight, status=Insight.Status.FAILED, error=DATA_MOVED_ON)
    if not insight.facts:
        Insight.objects.filter(pk=insight.pk).update(facts=facts)
        insight.facts = facts
    if not insight.model:
        return _insight_finish_from_facts(insight=insight, error="")

    Insight.objects.filter(pk=insight.pk).update(api_calls=insight.api_calls + 1)
    insight.api_calls += 1
    try:
        answer = llm.chat_completion_create(messages=prompt_messages(facts=facts), model=insight.model)
    except llm.InsightCallRetryable as error:
        logger.warning("insight %s: call %s failed: %s", insight.pk, insight.api_calls, error)
        if not final_attempt:
            Insight.objects.filter(pk=insight.pk).update(error=str(error))
            raise
        return _insight_finish_from_facts(insight=insight, error=str(error))
    except llm.InsightCallFailed as error:
        logger.warning("insight %s: call failed: %s", insight.pk, error)
        return _insight_finish_from_facts(insight=insight, error=str(error))
    checked, unverified = numbers_check(markdown=answer.text, facts=facts)
    return _insight_finish(
        insight=insight,
        status=Insight.Status.READY,
        source=Insight.Source.OPENAI,
        markdown=checked,
        answer_raw=answer.text,
        unverified_numbers=unverified,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        total_tokens=answer.total_tokens,
        error="",
    )


def insight_generate_out_of_time(*, insight_id: int) -> Insight:
    """Finish an insight whose task hit its time limit: from the facts, when they were computed."""
    insight = Insight.objects.get(pk=insight_id)
    if insight.status != Insight.Status.PENDING:
        return insight
    if not insight.facts:
        return _insight_finish(insight=insight, status=Insight.Status.FAILED, error=TIME_LIMIT_ERROR)
    return _insight_finish_from_facts(insight=insight, error=TIME_LIMIT_ERROR)


def _facts_for_snapshot(*, insight: Insight) -> dict | None:
    """Return facts computed from exactly the insight's data version, or None once the data moved on.

    The version moves in every writer's transaction, so the same version before and after the
    reads means no write landed between them.
    """
    for _ in range(FACTS_ATTEMPTS):
        before = data_version_get().version
        if before != insight.data_version:
            return None
        from .facts import facts_compute  # pandas: imported only where facts are computed

        facts = facts_compute(start=insight.range_start, end=insight.range_end)
        if data_version_get().version == before:
            return facts
    return None


def _insight_finish_from_facts(*, insight: Insight, error: str) -> Insight:
    text = fallback_markdown(facts=insight.facts)
    checked, unverified = numbers_check(markdown=text, facts=insight.facts)
    return _insight_finish(
        insight=insight,
        status=Insight.Status.READY,
        source=Insight.Source.FACTS,
        markdown=checked,
        unverified_numbers=unverified,
        error=error,
    )


def _insight_finish(*, insight: Insight, status: str, **fields) -> Insight:
    now = timezone.now()
    # Only a pending row is finished: a second delivery of the task never overwrites the first answer.
    Insight.objects.filter(pk=insight.pk, status=Insight.Status.PENDING).update(
        status=status, finished_at=now, duration=now - insight.claimed_at, **fields
    )
    insight.refresh_from_db()
    logger.info(
        "insight %s: %s from %s, %s unverified numbers, %s tokens, %s",
        insight.pk,
        insight.status,
        insight.source or "-",
        insight.unverified_numbers,
        insight.total_tokens,
        insight.duration,
    )
    return insight
