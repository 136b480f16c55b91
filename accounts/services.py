"""Writes for staff accounts."""

from django.contrib.auth import get_user_model


def staff_login_set(*, username: str, password: str) -> bool:
    """Create or update a superuser with this password; return whether it was created.

    A password it already has is left alone: setting it again would make a new hash, and so
    sign out every session of the user (dev.py runs this at each start).
    """
    user, created = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    if created or not user.check_password(password):
        user.set_password(password)
    user.save()
    return created
