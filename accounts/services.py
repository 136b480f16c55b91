"""Writes for staff accounts."""

from django.contrib.auth import get_user_model


def staff_login_set(*, username: str, password: str) -> bool:
    """Create or update a superuser with this password; return whether it was created."""
    user, created = get_user_model().objects.get_or_create(username=username)
    user.is_staff = True
    user.is_superuser = True
    user.set_password(password)
    user.save()
    return created
