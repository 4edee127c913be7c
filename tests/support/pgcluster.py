"""A throw-away PostgreSQL server for the tests and benchmarks: its own cluster in a
temporary folder, listening only on a Unix socket there, stopped and removed after.

initdb and pg_ctl come from the Debian package (``apt-get install postgresql``;
.ci/run installs it). PostgreSQL refuses to run as root, and CI runs as root, so
as root the cluster belongs to the package's ``postgres`` user. pytest-postgresql
does the same with initdb and pg_ctl, but always as the current user: hence this.

``WATCHER_TEST_POSTGRESQL`` may name a server of one's own instead (a libpq
connection URL of a superuser, such as ``postgresql://postgres@/postgres?host=/run/postgresql``):
each test then gets its own database there.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

SERVER_ENV = "WATCHER_TEST_POSTGRESQL"
# A template with the current schema, copied for each test (faster than migrating).
TEMPLATE = "watcher_template"


class Unavailable(Exception):
    """No PostgreSQL can be started here; ``str()`` says why, for the skip reason."""


def _bin_dir() -> Path:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    versions = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    if versions:
        return Path(versions[-1]).parent
    raise Unavailable("no PostgreSQL server here (initdb not found: apt-get install postgresql)")


def _as_owner() -> list[str]:
    """The prefix that runs a command as the cluster's owner: root may not own one."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise Unavailable("as root, and no 'postgres' user to own a cluster") from None
    return ["runuser", "-u", "postgres", "--"]


class Cluster:
    """One PostgreSQL server: started by :meth:`start`, or one given by SERVER_ENV."""

    def __init__(self, folder: Path | None = None, given: str | None = None) -> None:
        self.given = given
        self.folder = folder
        self._names = itertools.count(1)
        self._bin: Path | None = None

    @classmethod
    def start_new(cls) -> Cluster:
        given = os.environ.get(SERVER_ENV)
        if given:
            cluster = cls(given=given)
            try:
                with cluster.connect("postgres"):
                    pass
            except psycopg.Error as exc:
                raise Unavailable(f"{SERVER_ENV}: cannot connect: {exc}") from None
            return cluster
        # Not under pytest's tmp_path: the owner must be able to reach it (root's is 0700).
        folder = Path(tempfile.mkdtemp(prefix="watcher-pg-"))
        cluster = cls(folder)
        cluster._bin = _bin_dir()
        owner = _as_owner()
        if owner:
            shutil.chown(folder, "postgres", "postgres")
        data = folder / "data"
        result = subprocess.run(
            [
                *owner,
                str(cluster._bin / "initdb"),
                "-D",
                str(data),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            shutil.rmtree(folder, ignore_errors=True)
            raise Unavailable(f"initdb failed: {result.stderr.strip()[-300:]}")
        cluster.start()
        return cluster

    @property
    def socket_dir(self) -> Path:
        assert self.folder is not None
        return self.folder

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        assert self._bin is not None and self.folder is not None
        return subprocess.run(
            [*_as_owner(), str(self._bin / "pg_ctl"), "-D", str(self.folder / "data"), *args],
            capture_output=True,
            text=True,
            check=check,
        )

    def start(self) -> None:
        """Start the server (again): on the socket only, tuned for throw-away data."""
        assert self.folder is not None
        options = " ".join(
            [
                "-c listen_addresses=''",
                f"-c unix_socket_directories={self.folder}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        log = self.folder / "server.log"
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(log), "-o", options)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; ``immediate`` is what a crash looks like to its clients."""
        self._pg_ctl("stop", "-m", mode, "-w")

    def destroy(self) -> None:
        if self.folder is None:
            return
        self._pg_ctl("stop", "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)

    def libpq_url(self, database: str) -> str:
        if self.given:
            from sqlalchemy.engine import make_url

            return make_url(self.given).set(database=database).render_as_string(False)
        return f"postgresql://postgres@/{database}?host={self.socket_dir}"

    def url(self, database: str) -> str:
        """The database's URL as watcher's ``[state] url`` takes it."""
        return self.libpq_url(database).replace("postgresql://", "postgresql+psycopg://", 1)

    def connect(self, database: str = "postgres") -> psycopg.Connection:
        return psycopg.connect(self.libpq_url(database), autocommit=True)

    def create_database(self, *, template: str | None = None) -> str:
        """A new, empty database (or a copy of ``template``); returns its name."""
        name = f"w{os.getpid()}_{next(self._names)}"
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            clause = f' TEMPLATE "{template}"' if template else ""
            for attempt in range(50):
                try:
                    conn.execute(f'CREATE DATABASE "{name}"{clause}')
                    break
                except psycopg.errors.ObjectInUse:  # the template is being read: retry
                    if attempt == 49:
                        raise
                    time.sleep(0.1)
        return name

    def drop_database(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
