"""Every settings module sends the Content-Security-Policy.

Settings are read once per process, so each module is loaded in a manage.py subprocess of its own.
"""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
# The dashboard signed out (a redirect to the sign-in page, which renders no static file: production's
# manifest exists only after collectstatic), over HTTPS, as production redirects plain HTTP.
PRINT_POLICY = (
    "from django.test import Client; "
    "response = Client().get('/dashboard/', secure=True, headers={'host': 'localhost'}); "
    "print(response.status_code, response.headers.get('Content-Security-Policy', ''))"
)


@pytest.mark.parametrize("module", ["local", "test", "production"])
def test_every_settings_module_sends_the_content_security_policy(module, tmp_path):
    environment = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
    environment.update(
        DJANGO_SETTINGS_MODULE=f"salesproject.settings.{module}",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="localhost",
        LOG_DIR=str(tmp_path),
    )

    result = subprocess.run(
        [sys.executable, str(PROJECT_DIR / "manage.py"), "shell", "-v", "0", "-c", PRINT_POLICY],
        cwd=PROJECT_DIR, env=environment, capture_output=True, text=True, timeout=120,
    )

    assert result.returncode == 0, result.stderr
    status, policy = result.stdout.strip().split(" ", 1)
    assert status == "302"
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
