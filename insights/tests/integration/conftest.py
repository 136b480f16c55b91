"""Real Celery workers for the insights integration tests: the orders integration fixtures, reused."""

import pytest

from orders.tests.integration.conftest import (  # noqa: F401 - pytest finds fixtures by name
    celery_app,
    celery_queue,
    celery_worker,
    integration_bucket,
    pytest_runtest_makereport,
    start_worker,
)


@pytest.fixture
def insights_task_mode():
    """Here tasks go through Redis to a real worker."""
