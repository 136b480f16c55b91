"""The one place that talks to the OpenAI-compatible API, through the official `openai` package."""

from dataclasses import dataclass

from django.conf import settings


class InsightCallRetryable(Exception):
    """A rate limit, a server error, a timeout or a lost connection: worth another try later."""


class InsightCallFailed(Exception):
    """An answer that another try would not change (a bad key, a bad request, an empty answer)."""


@dataclass(frozen=True)
class ModelAnswer:
    text: str
    prompt_tokens: int | None
    completion_tokens: int | None
    total_tokens: int | None


def chat_completion_create(*, messages: list[dict], model: str) -> ModelAnswer:
    """Make exactly one call: the SDK's own retries are off, because retries belong to the task."""
    # Imported here: the SDK takes about a second to import, which every web process, worker and
    # management command would pay at start (the URLconf reaches this module) for a rare call.
    import openai

    client = openai.OpenAI(
        api_key=settings.OPENAI_API_KEY,
        base_url=settings.OPENAI_BASE_URL or None,
        timeout=settings.OPENAI_TIMEOUT,
        max_retries=0,
    )
    try:
        completion = client.chat.completions.create(
            model=model,
            messages=messages,
            temperature=settings.INSIGHTS_TEMPERATURE,
            max_tokens=settings.INSIGHTS_MAX_TOKENS,
        )
    except (
        openai.RateLimitError,
        openai.InternalServerError,
        openai.APITimeoutError,
        openai.APIConnectionError,
    ) as error:
        raise InsightCallRetryable(_describe(error)) from error
    except openai.APIStatusError as error:
        if error.status_code >= 500:
            raise InsightCallRetryable(_describe(error)) from error
        raise InsightCallFailed(_describe(error)) from error
    except openai.OpenAIError as error:
        raise InsightCallFailed(_describe(error)) from error
    finally:
        client.close()
    text = (completion.choices[0].message.content or "").strip() if completion.choices else ""
    if not text:
        raise InsightCallFailed("The model returned an empty answer.")
    usage = completion.usage
    return ModelAnswer(
        text=text,
        prompt_tokens=usage.prompt_tokens if usage else None,
        completion_tokens=usage.completion_tokens if usage else None,
        total_tokens=usage.total_tokens if usage else None,
    )


def _describe(error: Exception) -> str:
    status = getattr(error, "status_code", None)
    return f"{type(error).__name__}{f' ({status})' if status else ''}: {error}"[:1000]
