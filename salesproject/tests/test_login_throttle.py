"""Failed sign-ins are throttled per user and per address, on the admin's form and HTTP Basic alike."""

import base64
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import RequestFactory
from django.utils import timezone

from salesproject.login_throttle import LOCKED_OUT, client_address

pytestmark = pytest.mark.django_db

PASSWORD = "the-right-password"
ATTACKER = "203.0.113.66"
ELSEWHERE = "198.51.100.7"


@pytest.fixture
def users(django_user_model):
    return {
        name: django_user_model.objects.create_superuser(name, f"{name}@example.com", PASSWORD)
        for name in ("alice", "bob", "carol")
    }


def sign_in(client, username: str, password: str, *, address: str = ATTACKER):
    return client.post(
        "/admin/login/?next=/admin/", {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def api_get(client, username: str, password: str, *, address: str = ATTACKER):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return client.get("/api/top-customers/", HTTP_AUTHORIZATION=f"Basic {token}", REMOTE_ADDR=address)


def locked_message(settings) -> str:
    return LOCKED_OUT.format(minutes=int(settings.AXES_COOLOFF_TIME.total_seconds()) // 60)


def test_the_admin_form_refuses_even_the_right_password_after_five_failures(client, users, settings):
    statuses = [sign_in(client, "alice", "wrong").status_code for _ in range(6)]
    response = sign_in(client, "alice", PASSWORD)

    assert statuses == [200] * 4 + [429] * 2
    assert response.status_code == 429
    assert locked_message(settings) in response.content.decode()
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    assert "_auth_user_id" not in client.session


def test_http_basic_refuses_even_the_right_password_after_five_failures(client, users, settings):
    statuses = [api_get(client, "alice", "wrong").status_code for _ in range(6)]
    response = api_get(client, "alice", PASSWORD)

    assert statuses == [401] * 4 + [429] * 2
    assert response.status_code == 429
    assert response.json() == {"detail": locked_message(settings)}


def test_the_lockout_is_per_user_and_per_address(client, users):
    for _ in range(5):
        api_get(client, "alice", "wrong")

    assert sign_in(client, "alice", PASSWORD, address=ELSEWHERE).status_code == 429  # the user, from anywhere
    assert api_get(client, "carol", PASSWORD).status_code == 429  # anyone, from that address
    assert api_get(client, "bob", PASSWORD, address=ELSEWHERE).status_code == 200
    response = sign_in(client, "bob", PASSWORD, address=ELSEWHERE)
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_the_right_password_signs_in_once_the_cool_off_has_passed(client, users, settings):
    for _ in range(5):
        sign_in(client, "alice", "wrong")
    AccessAttempt.objects.update(attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1))

    assert sign_in(client, "alice", PASSWORD).status_code == 302


def test_a_lockout_is_written_to_the_app_log(client, users, settings):
    for _ in range(5):
        sign_in(client, "alice", "wrong", address="192.0.2.55")

    log = (settings.LOG_DIR / "app.log").read_text(encoding="utf-8")
    assert "Locking out" in log and "192.0.2.55" in log


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "address"),
    [
        (0, "", "10.0.0.2"),
        (0, "203.0.113.9", "10.0.0.2"),  # no proxy trusted: the header is the client's to invent
        (1, "203.0.113.9", "203.0.113.9"),
        (1, "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # what the client wrote before our proxy's entry
        (2, "203.0.113.9, 10.0.0.5", "203.0.113.9"),
        (1, "", "10.0.0.2"),
    ],
)
def test_the_client_address_is_the_one_our_proxies_saw(settings, proxies, forwarded_for, address):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded_for)

    assert client_address(request) == address
