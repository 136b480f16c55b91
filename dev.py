#!/usr/bin/env python3
"""Set up and run salesproject with nothing but Python 3.11+.

    python3 dev.py run     # install, migrate, load bucket/, create a staff login, serve the admin
    python3 dev.py run 127.0.0.1:8080   # the same on another address or port
    python3 dev.py test    # install, run ruff, then every test (extra arguments go to pytest)

Dependencies go in .venv/ beside this file: `run` installs requirements.txt, `test`
requirements-dev.txt (the same plus the test and lint tools). Each is installed again
only when it changes.
"""

import hashlib
import os
import secrets
import signal
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
REQUIREMENTS = ROOT / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
# The digests of the requirement files whose packages are in .venv, one a line.
STAMP = VENV / ".requirements.sha256"
STAFF_USERNAME = "staff"
# The staff password `run` made, kept (git-ignored) so a restart keeps it and signs nobody out.
STAFF_PASSWORD_FILE = ROOT / ".staff-password"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def requirements_digest(requirements: Path) -> str:
    # requirements-dev.txt includes requirements.txt: a change to either changes its digest.
    files = [REQUIREMENTS] if requirements == REQUIREMENTS else [REQUIREMENTS, requirements]
    return hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()


def ensure_environment(requirements: Path) -> None:
    # ruff.toml targets Python 3.11: this is what stops an older one, with a message.
    if sys.version_info < (3, 11):  # noqa: UP036
        sys.exit("salesproject needs Python 3.11 or newer.")
    if not PYTHON.exists():
        say(f"creating a virtual environment in {VENV}")
        venv.create(VENV, with_pip=True)
    current = {path: requirements_digest(path) for path in (REQUIREMENTS, DEV_REQUIREMENTS)}
    installed = set(STAMP.read_text().split()) if STAMP.exists() else set()
    if current[requirements] in installed:
        return
    say(f"installing {requirements.name} (once; again only when it changes)")
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-r", requirements], check=True)
    # Installing the dev file installs requirements.txt too; a digest of an older file is dropped.
    installed = (installed & set(current.values())) | {current[requirements]}
    if requirements == DEV_REQUIREMENTS:
        installed.add(current[REQUIREMENTS])
    STAMP.write_text("".join(f"{digest}\n" for digest in sorted(installed)))


def manage(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, ROOT / "manage.py", *args], cwd=ROOT, **kwargs)


def run(argv: list[str]) -> int:
    address = argv[0] if argv else os.environ.get("SALESPROJECT_ADDRESS", "127.0.0.1:8000")
    manage("migrate", "--no-input", "-v", "0", check=True)
    say("loading the sales files in bucket/")
    # A bad file is reported and the app still starts: staff fix it in the admin.
    manage("ingest", "--no-progress")
    password, source = staff_password_choose(environ=os.environ, stored=STAFF_PASSWORD_FILE)
    login = manage("staff_login", STAFF_USERNAME, env={**os.environ, "STAFF_PASSWORD": password})
    if login.returncode != 0:
        return login.returncode
    say("")
    say(f"Open http://{address}/ (the dashboard) or http://{address}/admin/ (the staff workbench)")
    say(f"and sign in as {STAFF_USERNAME!r} with password {password!r}")
    say(f"({source}). Stop with Ctrl+C.")
    say("")
    helpers = start_background_services()
    # A service manager stops us with SIGTERM: stop the worker, beat and watcher too.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return manage("runserver", address, "--noreload").returncode
    except KeyboardInterrupt:
        return 0
    finally:
        for helper in helpers:
            helper.send_signal(signal.SIGTERM)
        for helper in helpers:
            helper.wait(timeout=30)


def staff_password_choose(*, environ, stored: Path) -> tuple[str, str]:
    """Return the staff password and where it comes from, for the start-up message.

    $STAFF_PASSWORD wins; else the one an earlier run stored; else a new one, stored for the next run.
    """
    if environ.get("STAFF_PASSWORD"):
        return environ["STAFF_PASSWORD"], "from STAFF_PASSWORD"
    if stored.exists() and stored.read_text().strip():
        return stored.read_text().strip(), f"kept in {stored.name}; delete it for a new one"
    password = secrets.token_urlsafe(12)
    stored.write_text(f"{password}\n")
    stored.chmod(0o600)  # the admin's password: readable by its owner only
    return password, f"made once and kept in {stored.name}; delete it for a new one"


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def start_background_services() -> list[subprocess.Popen]:
    """With REDIS_URL set, start what docker-compose would: a worker, beat and the bucket watcher."""
    if not os.environ.get("REDIS_URL"):
        # No broker: tasks run in-process, and the watcher loads new files itself.
        return [subprocess.Popen([PYTHON, ROOT / "manage.py", "watch_bucket"], cwd=ROOT)]
    celery = [PYTHON, "-m", "celery", "-A", "salesproject"]
    say("REDIS_URL is set: starting a Celery worker, beat and the bucket watcher")
    return [
        subprocess.Popen([*celery, "worker", "--loglevel", "INFO", "--concurrency", "2"], cwd=ROOT),
        subprocess.Popen([*celery, "beat", "--loglevel", "INFO"], cwd=ROOT),
        subprocess.Popen([PYTHON, ROOT / "manage.py", "watch_bucket"], cwd=ROOT),
    ]


def test(argv: list[str]) -> int:
    # Lint first: a finding fails the run before a test starts (settings in ruff.toml).
    say("ruff check .")
    lint = subprocess.run([PYTHON, "-m", "ruff", "check", "."], cwd=ROOT)
    if lint.returncode != 0:
        return lint.returncode
    return subprocess.run([PYTHON, "-m", "pytest", *argv], cwd=ROOT).returncode


def main() -> int:
    commands = {"run": (run, REQUIREMENTS), "test": (test, DEV_REQUIREMENTS)}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__.strip())
        return 2
    command, requirements = commands[sys.argv[1]]
    ensure_environment(requirements)
    return command(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
