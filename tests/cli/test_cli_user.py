"""`assistant make --user X` acts as X only for a local admin (root, the data dir's owner, or
ASSISTANT_CLI_ADMIN=true): anyone else on the machine is refused in one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.cli.common import check_cli_user, is_local_admin
from assistant.config import Settings
from assistant.errors import InputError
from tests.cli.helpers import env_for

STRANGER = 4242  # a uid that owns nothing here


def settings(data_dir: Path, **values: object) -> Settings:
    return Settings(_env_file=None, data_dir=data_dir, **values)  # type: ignore[arg-type]


def test_who_is_a_local_admin(tmp_path: Path) -> None:
    owner = tmp_path.stat().st_uid
    assert is_local_admin(settings(tmp_path), uid=owner)
    assert is_local_admin(settings(tmp_path), uid=0)
    assert not is_local_admin(settings(tmp_path), uid=owner + STRANGER)
    assert is_local_admin(settings(tmp_path, cli_admin=True), uid=owner + STRANGER)
    assert is_local_admin(settings(tmp_path / "not-yet"), uid=owner + STRANGER)


def test_only_an_admin_acts_as_someone_else(tmp_path: Path) -> None:
    s = settings(tmp_path)
    stranger = tmp_path.stat().st_uid + STRANGER
    with pytest.raises(InputError) as refused:
        check_cli_user(s, "bob", uid=stranger)
    assert "only a local admin" in refused.value.user_message
    check_cli_user(s, None, uid=stranger)  # acting as the default user needs nothing
    check_cli_user(s, s.default_user, uid=stranger)
    check_cli_user(s, "bob", uid=tmp_path.stat().st_uid)


# The real entry point in a subprocess, its effective uid seen as a stranger's (the tests run
# as root, who is always an admin): refused before any job or file is made. An unknown
# format stops an admin just after the check, so neither case runs a job.
AS_STRANGER = ("import os, sys; os.geteuid = lambda: {uid}; "
               "sys.argv = ['assistant', 'make', 'tides', '--user', 'bob', '--format', 'no']; "
               "from assistant.cli import main; main()")


@pytest.mark.parametrize("admin", ["", "true"])
def test_the_cli_refuses_a_stranger_in_one_line(tmp_path: Path, admin: str) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    uid = data_dir.stat().st_uid + STRANGER
    env = env_for(data_dir, **({"ASSISTANT_CLI_ADMIN": admin} if admin else {}))
    done = subprocess.run([sys.executable, "-c", AS_STRANGER.format(uid=uid)], env=env,
                          capture_output=True, text=True, timeout=300, cwd=os.getcwd())
    if admin:  # allowed past the check: stopped by the next one
        assert "unknown format 'no'" in done.stderr, done.stderr
        return
    assert done.returncode == 2, done.stderr  # an InputError's exit code
    assert " ".join(done.stderr.split()) == (  # one message (rich wraps it at 120 columns)
        "error: --user bob: only a local admin may act as another user (root, the owner of "
        "the data dir, or ASSISTANT_CLI_ADMIN=true)"), done.stderr
    assert "Traceback" not in done.stderr and list(data_dir.iterdir()) == []
