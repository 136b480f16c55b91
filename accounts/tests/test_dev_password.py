"""dev.py's choice of the staff password: $STAFF_PASSWORD, else the stored one, else a new one stored."""

import stat

import dev


def test_a_first_run_makes_a_password_and_stores_it_for_the_owner_only(tmp_path):
    stored = tmp_path / ".staff-password"

    password, source = dev.staff_password_choose(environ={}, stored=stored)

    assert len(password) >= 12
    assert stored.read_text() == f"{password}\n"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert source == "made once and kept in .staff-password; delete it for a new one"


def test_a_later_run_keeps_the_stored_password(tmp_path):
    stored = tmp_path / ".staff-password"
    first, _ = dev.staff_password_choose(environ={}, stored=stored)

    again, source = dev.staff_password_choose(environ={}, stored=stored)

    assert again == first
    assert source == "kept in .staff-password; delete it for a new one"


def test_staff_password_from_the_environment_wins_and_is_not_stored(tmp_path):
    stored = tmp_path / ".staff-password"
    stored.write_text("the-stored-password\n")

    password, source = dev.staff_password_choose(environ={"STAFF_PASSWORD": "mine-and-long-enough"}, stored=stored)

    assert (password, source) == ("mine-and-long-enough", "from STAFF_PASSWORD")
    assert stored.read_text() == "the-stored-password\n"
