"""`make test` brings up what the tests need on a bare machine, and does nothing when all is up.

``.ci/services`` is run with stand-ins for the system's commands first on PATH (dpkg,
apt-get, pg_isready, pg_ctlcluster, psql, redis-cli, redis-server, rabbitmq-server): each
records its call, and "installs" or "starts" by leaving a file that the probes look at,
RabbitMQ by really listening on a port (its probe is a TCP connect).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "services"

STUBS = {
    # installed packages are files under $STATE/pkg
    "dpkg": '[ "$1" = -s ] && [ -e "$STATE/pkg/$2" ]',
    "apt-get": 'if [ "$1" = install ]; then for a in "$@"; do case $a in -*|install) ;; '
               '*) touch "$STATE/pkg/$a";; esac; done; fi',
    "sudo": '"$@"',
    "id": 'echo 0',
    "pg_isready": '[ -e "$STATE/up/postgresql" ]',
    "pg_ctlcluster": '[ "$4" = start ] && touch "$STATE/up/postgresql"; '
                     '[ "$4" = reload ] && touch "$STATE/reloaded"; true',
    "psql": '[ -e "$STATE/trust" ]',
    "sed": 'touch "$STATE/trust"',  # the pg_hba.conf edit
    "redis-cli": '[ -e "$STATE/up/redis" ]',
    "redis-server": 'touch "$STATE/up/redis"',
    "rabbitmq-server": '(python3 -c "import socket,time; s=socket.socket(); '
                       's.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); '
                       "s.bind(('127.0.0.1', $RABBITMQ_NODE_PORT)); s.listen(); "
                       'time.sleep(120)" >/dev/null 2>&1 & echo $! > "$STATE/rabbit.pid"); '
                       'sleep 0.5',
    "ls": 'echo 15',  # ls /etc/postgresql
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def machine(tmp_path: Path) -> Iterator[Path]:
    bin_dir = tmp_path / "bin"
    for folder in ("bin", "pkg", "up"):
        (tmp_path / folder).mkdir()
    for name, body in STUBS.items():
        stub = bin_dir / name
        stub.write_text(f'#!/bin/bash\necho "{name} $*" >> "$STATE/calls"\n{body}\n')
        stub.chmod(stub.stat().st_mode | stat.S_IEXEC)
    yield tmp_path
    pid = tmp_path / "rabbit.pid"
    if pid.exists():  # the stand-in RabbitMQ listener this test started
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid.read_text()), signal.SIGTERM)


def run(machine: Path, port: int) -> list[str]:
    calls = machine / "calls"
    calls.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "TEST_POSTGRES_URL"}
    env.update(STATE=str(machine), RABBITMQ_NODE_PORT=str(port),
               PATH=f"{machine / 'bin'}:{env['PATH']}")
    done = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return calls.read_text().splitlines() if calls.exists() else []


def test_a_bare_machine_gets_the_packages_installed_and_the_servers_started(
    machine: Path,
) -> None:
    port = _free_port()
    calls = run(machine, port)
    install = next(c for c in calls if c.startswith("apt-get install"))
    assert {"postgresql", "redis-server", "rabbitmq-server"} <= set(install.split())
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in calls
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main reload" in calls  # loopback trust
    assert any(c.startswith("redis-server --daemonize yes --bind 127.0.0.1") for c in calls)
    assert "rabbitmq-server -detached" in calls

    again = run(machine, port)  # everything present and up: only checks
    assert not [c for c in again if c.split()[0] in
                {"apt-get", "pg_ctlcluster", "redis-server", "rabbitmq-server", "sed"}], again


def test_only_what_is_missing_is_installed_and_only_what_is_down_is_started(
    machine: Path,
) -> None:
    for package in ("postgresql", "rabbitmq-server", "mariadb-server", "wordpress", "php-cli",
                    "php-mysql"):  # all but redis-server
        (machine / "pkg" / package).touch()
    (machine / "up" / "postgresql").touch()
    (machine / "trust").touch()
    with socket.socket() as rabbit:  # RabbitMQ is already listening
        rabbit.bind(("127.0.0.1", 0))
        rabbit.listen()
        calls = run(machine, rabbit.getsockname()[1])
    install = [c for c in calls if c.startswith("apt-get install")]
    assert install and install[0].split()[-1] == "redis-server"
    assert "mariadb-server" not in install[0] and "wordpress" not in install[0]
    assert "postgresql" not in install[0] and "rabbitmq-server" not in install[0]
    assert not [c for c in calls if c.startswith(("pg_ctlcluster", "rabbitmq-server"))]
    assert any(c.startswith("redis-server") for c in calls)


def test_make_test_runs_it_before_the_suite() -> None:
    # -o install: the install is taken as done, so nothing of it runs or prints
    plan = subprocess.run(["make", "-n", "-o", "install", "test"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60).stdout
    assert ".ci/services" in plan
    assert plan.index(".ci/services") < plan.index("pytest")
