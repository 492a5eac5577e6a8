"""What the local-stack tests need to know about processes."""

import os
from pathlib import Path

PROC = Path("/proc")


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    return True


def children(pid: int) -> dict[int, str]:
    """Process id -> command line, for each running process that `pid` started.

    Read from /proc rather than `ps`, whose output is cut to the terminal's width
    (or COLUMNS) and would hide the end of a long command line.
    """
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit() and _parent(entry) == pid:
            found[int(entry.name)] = _command_line(entry)
    return found


def _parent(entry: Path) -> int | None:
    try:
        stat = (entry / "stat").read_text()
    except OSError:  # the process ended while we looked
        return None
    # The command name in parentheses may hold spaces: the fields after it are fixed.
    return int(stat.rsplit(")", 1)[1].split()[1])


def _command_line(entry: Path) -> str:
    try:
        return (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    except OSError:
        return ""
