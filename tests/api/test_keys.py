"""API keys: made, listed and revoked by the real CLI; stored as a sha256 digest only; a
request acts as the key's user, and anything else is a 401 JSON error."""

from __future__ import annotations

import hashlib
import sqlite3

from fastapi.testclient import TestClient

from assistant.api import create_api
from assistant.api.keys import KEY_PREFIX, ApiKeys
from assistant.app.studio import Services
from assistant.config import Settings
from tests.api.conftest import Api, IdleRunner, close, conversation
from tests.cli.helpers import assistant


def test_the_cli_makes_lists_and_revokes_keys(svc: Services, settings: Settings) -> None:
    data = settings.resolved_data_dir
    made = assistant(data, "apikey", "create", "alice", "--name", "zapier")
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith(KEY_PREFIX) and len(key) == len(KEY_PREFIX) + 43
    second = ApiKeys(svc.db).create("alice")[1]  # (each CLI run costs seconds of imports)
    assert second != key

    listed = assistant(data, "apikey", "list", "alice")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2 and all("active" in line and "never used" in line for line in lines)
    assert key[:12] in listed.stdout and "'zapier'" in listed.stdout
    assert key not in listed.stdout and key[12:] not in listed.stdout  # only the prefix shows

    # Only the digest is stored: the key's text is nowhere in the database file.
    with sqlite3.connect(data / "assistant.db") as db:
        hashes = {h for (h,) in db.execute("SELECT key_hash FROM api_keys")}
    assert hashlib.sha256(key.encode()).hexdigest() in hashes
    assert key.encode() not in (data / "assistant.db").read_bytes()

    conv = conversation(svc, IdleRunner)
    app = create_api(conv)
    try:
        with TestClient(app) as client:
            auth = {"Authorization": f"Bearer {key}"}
            assert client.get("/api/v1/jobs", headers=auth).status_code == 200
            key_id = lines[0].split()[0] if key[:12] in lines[0] else lines[1].split()[0]
            revoked = assistant(data, "apikey", "revoke", key_id)
            assert revoked.returncode == 0 and "revoked" in revoked.stdout, revoked.stderr
            refused = client.get("/api/v1/jobs", headers=auth)
            assert refused.status_code == 401
            assert refused.json() == {"error": {"code": "unauthorized",
                                                "message": "that API key is unknown or revoked"}}
            assert refused.headers["www-authenticate"] == "Bearer"
            other = {"Authorization": f"Bearer {second}"}
            assert client.get("/api/v1/jobs", headers=other).status_code == 200
    finally:
        close(conv, app)
    after = {k.id: k for k in ApiKeys(svc.db).list_for("alice")}
    assert after[key_id].revoked_at is not None
    assert [k.last_used_at is not None for k in after.values() if k.id != key_id] == [True]
    unknown = assistant(data, "apikey", "revoke", "not-a-key-id")
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    assert "is not a key id" in unknown.stderr


def test_a_request_without_a_good_key_is_401_json(idle_api: Api) -> None:
    client = idle_api.client
    tries: list[dict[str, str]] = [
        {}, {"Authorization": "Bearer"}, {"Authorization": "Basic YWxpY2U6cHc="},
        {"Authorization": f"Bearer {KEY_PREFIX}{'x' * 43}"},
        {"Authorization": "Bearer " + idle_api.keys["alice"][:-1]},
        {"Authorization": "Bearer " + "a" * 5000},
    ]
    for headers in tries:
        for method, path in [("GET", "/api/v1/jobs"), ("POST", "/api/v1/jobs"),
                             ("GET", "/api/v1/events"), ("GET", "/api/v1/kb"),
                             ("GET", "/api/v1/users/usage")]:
            answer = client.request(method, path, headers=headers)
            assert answer.status_code == 401, (headers, path, answer.text)
            assert answer.json()["error"]["code"] == "unauthorized"
            assert idle_api.keys["alice"] not in answer.text
    assert client.get("/api/v1/health").json()["status"] == "ok"  # no key needed


def test_a_key_acts_as_its_user_only(idle_api: Api) -> None:
    client = idle_api.client
    made = client.post("/api/v1/jobs", headers=idle_api.auth("alice"),
                       json={"topic": "how tides work"})
    assert made.status_code == 201, made.text
    assert made.json()["brief"]["user"] == "alice"
    mine = client.get("/api/v1/jobs", headers=idle_api.auth("alice")).json()["items"]
    assert [j["id"] for j in mine] == [made.json()["id"]]
    assert client.get("/api/v1/jobs", headers=idle_api.auth("bob")).json()["items"] == []


def test_keys_revoke_and_list_in_the_service(svc: Services) -> None:
    keys = ApiKeys(svc.db)
    info, key = keys.create("carol", "ci")
    assert keys.authenticate(key) is not None
    assert keys.authenticate(key + "x") is None and keys.authenticate("") is None
    assert keys.revoke(info.id).revoked_at is not None
    assert keys.revoke(info.id).revoked_at is not None  # twice is harmless
    assert keys.authenticate(key) is None
    assert [k.name for k in keys.list_for("carol")] == ["ci"]
    assert keys.list_for("nobody") == []
