"""The PostgreSQL server the bench runs on: scratch databases made and dropped by name."""

import os
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class PgServer:
    host: str
    port: int
    user: str
    password: str

    @classmethod
    def from_url(cls, url: str) -> "PgServer":
        parts = urlsplit(url)
        if parts.scheme not in ("postgres", "postgresql"):
            raise ValueError(f"not a PostgreSQL URL: {url!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=unquote(parts.username or "postgres"),
            password=unquote(parts.password or ""),
        )

    @classmethod
    def from_environment(cls) -> "PgServer":
        """`BENCH_DATABASE_URL`, else the server of `DATABASE_URL` when it is PostgreSQL,
        else PostgreSQL on loopback."""
        for name in ("BENCH_DATABASE_URL", "DATABASE_URL"):
            url = os.environ.get(name, "").strip()
            if url.startswith(("postgres://", "postgresql://")):
                return cls.from_url(url)
        return cls.from_url(DEFAULT_SERVER)

    def url(self, database: str) -> str:
        auth = quote(self.user, safe="") + (f":{quote(self.password, safe='')}" if self.password else "")
        return f"postgres://{auth}@{self.host}:{self.port}/{database}"

    def libpq_env(self) -> dict[str, str]:
        env = {"PGHOST": self.host, "PGPORT": str(self.port), "PGUSER": self.user}
        if self.password:
            env["PGPASSWORD"] = self.password
        return env

    def _admin(self):
        import psycopg

        return psycopg.connect(self.url("postgres"), autocommit=True)

    def recreate(self, database: str) -> None:
        """Drop `database` if it exists (closing its sessions) and create it empty."""
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))

    def drop(self, database: str) -> None:
        from psycopg import sql

        with self._admin() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
