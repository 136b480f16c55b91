"""Exit 0 when a process whose command line contains the given words is running.

    python docker/healthcheck-process.py "celery -A salesproject beat"

The slim image has no procps (pgrep), so read /proc directly. This process and
its parent (a shell, if the check runs through one) carry the words in their
own command lines and are skipped.
"""

import os
import sys
from pathlib import Path


def command_lines() -> dict[int, str]:
    lines = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "cmdline").read_bytes()
        except OSError:  # the process ended while we looked
            continue
        lines[int(entry.name)] = raw.replace(b"\0", b" ").decode(errors="replace").strip()
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    words = argv[1]
    ourselves = {os.getpid(), os.getppid()}
    if any(words in line for pid, line in command_lines().items() if pid not in ourselves):
        return 0
    print(f"no process running: {words}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
