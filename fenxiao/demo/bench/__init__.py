"""The load part of `make bench`: the mall served as `make run` serves it, on PostgreSQL,
driven over HTTP and compared with what pgbench gets from the same machine.

- `pgbench`: the machine's limit (TPC-B and select-only TPS on a scratch database).
- `server`: granian and the Huey consumer on the bench database, started and stopped.
- `loadgen`: a keep-alive HTTP/1.1 client on asyncio streams and latency statistics.
- `scenarios`: buyers checking out concurrently; pages fetched at a fixed concurrency.
- `fixtures`: the buyers, distributor and products the scenarios use.
- `settlement_bench`: frozen due commissions generated in SQL, settled, then checked.
- `report`: the one table, printed and written to `var/bench/latest.{json,md}`.
- `runner`: the order it all runs in (`manage.py bench_load`).
"""
