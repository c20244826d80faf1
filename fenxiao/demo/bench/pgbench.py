"""The machine's limit: pgbench TPC-B and select-only TPS on a scratch database.

The mall's figures are read against these, so a slower or busier machine moves both.
"""

import os
import re
import subprocess
from dataclasses import dataclass

from .database import PgServer

SCRATCH_DATABASE = "fenxiao_bench_pgbench"

# pgbench 14+ prints "(without initial connection time)"; older ones "(excluding …)".
_TPS = re.compile(
    r"^tps = ([0-9]+(?:\.[0-9]+)?) "
    r"\((?:without initial connection time|excluding connections establishing)\)",
    re.MULTILINE,
)


class PgbenchError(RuntimeError):
    pass


def parse_tps(output: str) -> float:
    """The TPS of a pgbench run, from its report (the figure without connection time)."""
    match = _TPS.search(output)
    if match is None:
        raise PgbenchError(f"no TPS in pgbench output: {output[-500:]!r}")
    return float(match.group(1))


@dataclass(frozen=True)
class PgbenchResult:
    tpcb_tps: float
    select_tps: float
    clients: int
    seconds: int
    scale: int


def run(server: PgServer, *, scale=10, clients=8, threads=2, seconds=30, log=print) -> PgbenchResult:
    """Initialise a scratch database, run TPC-B then select-only, and drop it again."""
    env = dict(os.environ, **server.libpq_env())

    def pgbench(*args: str) -> str:
        done = subprocess.run(  # noqa: S603 - fixed arguments, our own numbers
            ["pgbench", *args, SCRATCH_DATABASE],  # noqa: S607 - pgbench from PATH, like psql
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise PgbenchError(f"pgbench {' '.join(args)} failed: {done.stderr[-1000:]}")
        return done.stdout

    server.recreate(SCRATCH_DATABASE)
    try:
        log(f"pgbench: initialising scale {scale}…")
        pgbench("-i", "-q", "-s", str(scale))
        load = ("-c", str(clients), "-j", str(threads), "-T", str(seconds))
        log(f"pgbench: TPC-B, {clients} clients, {seconds} s…")
        tpcb = parse_tps(pgbench(*load))
        log(f"pgbench: select-only, {clients} clients, {seconds} s…")
        select = parse_tps(pgbench("-S", *load))
    finally:
        server.drop(SCRATCH_DATABASE)
    return PgbenchResult(tpcb, select, clients, seconds, scale)
