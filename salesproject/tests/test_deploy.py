"""The production settings pass Django's deployment checks and refuse to start without their secrets.

Each test runs manage.py in a subprocess: settings are read once per process,
so this is the only way to load `salesproject.settings.production` for real.
"""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent.parent
PRODUCTION_SETTINGS = "salesproject.settings.production"
# "?: (security.W004) You have not set a value for SECURE_HSTS_SECONDS." and the like.
CHECK_WARNING = re.compile(r"\(\w+\.W\d+\)")


def run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / "manage.py"), *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_environment(log_dir: Path, **variables: str) -> dict[str, str]:
    """Return this process's environment with Django's variables replaced by `variables`."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("DJANGO_")}
    environment.update(
        DJANGO_SETTINGS_MODULE=PRODUCTION_SETTINGS,
        LOG_DIR=str(log_dir),
        **variables,
    )
    return environment


def project_dotenv_defines(name: str) -> bool:
    """Tell whether the project's .env (which base.py reads) sets `name` to a non-empty value."""
    dotenv = PROJECT_DIR / ".env"
    if not dotenv.exists():
        return False
    pattern = re.compile(rf"^\s*(export\s+)?{re.escape(name)}\s*=\s*\S")
    return any(pattern.match(line) for line in dotenv.read_text().splitlines())


def test_production_settings_pass_deploy_checks_without_warnings(tmp_path):
    environment = production_environment(
        tmp_path,
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="example.com",
    )

    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=environment)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert not CHECK_WARNING.search(output), output
    assert "WARNINGS" not in output, output
    assert "System check identified no issues" in output


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_production_settings_refuse_to_start_without_secret_key(tmp_path, secret_key):
    variables = {"DJANGO_ALLOWED_HOSTS": "example.com"}
    if secret_key is None:
        if project_dotenv_defines("DJANGO_SECRET_KEY"):
            pytest.skip("the project's .env sets DJANGO_SECRET_KEY, and base.py reads it")
    else:
        variables["DJANGO_SECRET_KEY"] = secret_key
    environment = production_environment(tmp_path, **variables)

    result = run_manage("check", env=environment)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "Set the DJANGO_SECRET_KEY environment variable" in result.stderr
