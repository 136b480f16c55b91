import os

from django.core.management.base import BaseCommand, CommandError

from accounts.services import staff_login_set


class Command(BaseCommand):
    help = "Create or update a staff superuser; the password comes from $STAFF_PASSWORD, never a default."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username: str, **options):
        password = os.environ.get("STAFF_PASSWORD", "")
        if len(password) < 12:
            raise CommandError("Set STAFF_PASSWORD to a password of at least 12 characters.", returncode=2)
        created = staff_login_set(username=username, password=password)
        self.stdout.write(f"Staff login {username!r} {'created' if created else 'updated'}.")
