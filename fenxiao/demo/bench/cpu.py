"""Where the machine's CPU went during a part of the bench: CPU seconds of each process group
(the web server, the task consumer, PostgreSQL, the load generator), read from Linux's
`/proc` before and after, so a figure says which side is the limit.

A group is a session (the bench starts the web server and the consumer each in a session of
its own, so their workers count with them), a process name (PostgreSQL's backends, when the
server runs on this machine), or this process. Without `/proc` every group reads zero.

A process that ends in between (a database connection closed when it reached its maximum
age, a web worker restarted) leaves its CPU with its parent, which adds the CPU of every
child it has waited for to its own record: the groups count that too, so the postmaster
carries the backends that came and went while the bench ran.
"""

import os
from dataclasses import dataclass, field
from pathlib import Path

PROC = Path("/proc")
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid_dir: Path) -> tuple[str, int, float] | None:
    """(name, session id, CPU seconds) of one process, None once it is gone: its own user and
    system time and those of the children it has waited for."""
    try:
        raw = (pid_dir / "stat").read_text()
    except OSError:
        return None
    # The name sits in parentheses and may itself hold spaces or parentheses.
    name = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # After the name: state, ppid, pgrp, session … utime (the 12th), stime, cutime, cstime.
    return name, int(fields[3]), sum(int(ticks) for ticks in fields[11:15]) / _TICKS


@dataclass
class Groups:
    """What to count: named sessions, named process names, and whether to count this process."""

    sessions: dict[str, int] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    me: str = ""

    def read(self, proc: Path = PROC) -> dict[str, float]:
        totals = dict.fromkeys([*self.sessions, *self.names, *([self.me] if self.me else [])], 0.0)
        by_session = {sid: label for label, sid in self.sessions.items()}
        by_name = {name: label for label, name in self.names.items()}
        mine = str(os.getpid())
        if not proc.is_dir():
            return totals
        for pid_dir in proc.iterdir():
            if not pid_dir.name.isdigit():
                continue
            seen = _stat(pid_dir)
            if seen is None:
                continue
            name, session, seconds = seen
            if pid_dir.name == mine and self.me:
                totals[self.me] += seconds
            elif session in by_session:
                totals[by_session[session]] += seconds
            elif name in by_name:
                totals[by_name[name]] += seconds
        return totals


class CpuWatch:
    """CPU seconds per group between `start()` and `stop()`. A process that ends in between
    counts through its parent (see the module docstring), provided the parent is in the
    same group and outlives the part measured."""

    def __init__(self, groups: Groups, proc: Path = PROC):
        self.groups, self.proc = groups, proc
        self.before: dict[str, float] = {}
        self.spent: dict[str, float] = {}

    def start(self) -> None:
        self.before = self.groups.read(self.proc)

    def stop(self) -> None:
        after = self.groups.read(self.proc)
        self.spent = {label: max(after[label] - self.before.get(label, 0.0), 0.0) for label in after}

    def per(self, count: int, *, unit: float = 1000) -> dict[str, float]:
        """CPU per operation by group, in milliseconds (`unit=1_000_000`: microseconds);
        empty before `stop()` or for no operation."""
        if not count:
            return {}
        return {label: round(seconds * unit / count, 1) for label, seconds in self.spent.items()}
