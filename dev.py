#!/usr/bin/env python3
"""Set up and run salesproject with nothing but Python 3.11+.

    python3 dev.py run     # install, migrate, load bucket/, create a staff login, serve the admin
    python3 dev.py test    # install, then run every test (extra arguments go to pytest)

Dependencies go in .venv/ beside this file, from requirements.txt, and are
installed again only when requirements.txt changes.
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
STAMP = VENV / ".requirements.sha256"
STAFF_USERNAME = "staff"


def say(message: str) -> None:
    print(f"[dev] {message}", flush=True)


def ensure_environment() -> None:
    if sys.version_info < (3, 11):
        sys.exit("salesproject needs Python 3.11 or newer.")
    if not PYTHON.exists():
        say(f"creating a virtual environment in {VENV}")
        venv.create(VENV, with_pip=True)
    wanted = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        say("installing requirements.txt (once; again only when it changes)")
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
        subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "-r", REQUIREMENTS], check=True)
        STAMP.write_text(wanted)


def manage(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, ROOT / "manage.py", *args], cwd=ROOT, **kwargs)


def run(argv: list[str]) -> int:
    address = argv[0] if argv else os.environ.get("SALESPROJECT_ADDRESS", "127.0.0.1:8000")
    manage("migrate", "--no-input", "-v", "0", check=True)
    say("loading the sales files in bucket/")
    # A bad file is reported and the app still starts: staff fix it in the admin.
    manage("ingest", "--no-progress")
    password = secrets.token_urlsafe(12)
    manage("staff_login", STAFF_USERNAME, env={**os.environ, "STAFF_PASSWORD": password}, check=True)
    say("")
    say(f"Open http://{address}/ (the dashboard) or http://{address}/admin/ (the staff workbench)")
    say(f"and sign in as {STAFF_USERNAME!r} with password {password!r}")
    say("(a new password is made at every start). Stop with Ctrl+C.")
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
    return subprocess.run([PYTHON, "-m", "pytest", *argv], cwd=ROOT).returncode


def main() -> int:
    commands = {"run": run, "test": test}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__.strip())
        return 2
    ensure_environment()
    return commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
