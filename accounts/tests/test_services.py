import pytest
from django.contrib.auth import get_user_model

from accounts.services import staff_login_set

pytestmark = pytest.mark.django_db


def test_staff_login_set_makes_a_staff_superuser_and_sets_the_password():
    assert staff_login_set(username="staff", password="a-long-password-1") is True
    assert staff_login_set(username="staff", password="another-password-2") is False

    user = get_user_model().objects.get(username="staff")
    assert (user.is_staff, user.is_superuser, user.is_active) == (True, True, True)
    assert user.check_password("another-password-2") and not user.check_password("a-long-password-1")


def test_staff_login_set_with_the_same_password_keeps_the_staff_signed_in(client):
    staff_login_set(username="staff", password="a-long-password-1")
    client.force_login(get_user_model().objects.get(username="staff"))

    staff_login_set(username="staff", password="a-long-password-1")  # dev.py run, restarted

    assert client.get("/admin/").status_code == 200


def test_staff_login_set_with_a_new_password_signs_the_old_sessions_out(client):
    staff_login_set(username="staff", password="a-long-password-1")
    client.force_login(get_user_model().objects.get(username="staff"))

    staff_login_set(username="staff", password="another-password-2")

    assert client.get("/admin/").status_code == 302
