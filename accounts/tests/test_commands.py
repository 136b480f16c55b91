import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

pytestmark = pytest.mark.django_db


def test_staff_login_takes_the_password_from_the_environment(monkeypatch, capsys):
    monkeypatch.setenv("STAFF_PASSWORD", "a-long-password-1")

    call_command("staff_login", "staff")

    assert capsys.readouterr().out == "Staff login 'staff' created.\n"
    assert get_user_model().objects.get(username="staff").check_password("a-long-password-1")


def test_staff_login_refuses_a_short_password(monkeypatch):
    monkeypatch.setenv("STAFF_PASSWORD", "short")

    with pytest.raises(CommandError, match="at least 12 characters"):
        call_command("staff_login", "staff")
    assert not get_user_model().objects.filter(username="staff").exists()


def test_staff_login_run_again_with_the_same_password_leaves_its_hash_alone(monkeypatch, capsys):
    monkeypatch.setenv("STAFF_PASSWORD", "a-long-password-1")
    call_command("staff_login", "staff")
    first_hash = get_user_model().objects.get(username="staff").password

    call_command("staff_login", "staff")

    assert capsys.readouterr().out.endswith("Staff login 'staff' updated.\n")
    assert get_user_model().objects.get(username="staff").password == first_hash
