"""Logging in and out, bearer tokens, role guards, throttling and staff accounts, over HTTP."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from tortoise import timezone

from core.auth.accounts import create_staff
from core.auth.models import AccessToken, Staff
from core.auth.service import citizen_identity, issue_token
from core.config import Settings
from core.kv.models import KeyValueItem
from core.web import create_app

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
STAFF = "/api/v1/staff"
PASSWORD = "correct-horse-battery"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PHONE = "13812345678"


async def _error(resp: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """Check the error document every client relies on and return it."""
    assert resp.status == status, await resp.text()
    body: dict[str, Any] = await resp.json()
    assert body["code"] == code
    assert CHINESE.search(body["message"]), body["message"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _staff(username: str, *roles: str, phone: str | None = None) -> Staff:
    return await create_staff(
        username=username,
        password=PASSWORD,
        display_name=f"{username} 的名字",
        roles=list(roles) or ["dispatcher"],
        phone=phone,
    )


async def _login(client: TestClient[Any, Any], username: str, password: str) -> ClientResponse:
    return await client.post(LOGIN, json={"username": username, "password": password})


async def _token(client: TestClient[Any, Any], username: str) -> str:
    resp = await _login(client, username, PASSWORD)
    assert resp.status == 200, await resp.text()
    token: str = (await resp.json())["token"]
    return token


async def _admin_token(client: TestClient[Any, Any]) -> str:
    await _staff("boss", "admin")
    return await _token(client, "boss")


# --- logging in ----------------------------------------------------------------------------------


async def test_login_returns_a_token_that_works(client: TestClient[Any, Any]) -> None:
    staff = await _staff("xiaozhang", "dispatcher", "acceptor", phone=PHONE)
    resp = await _login(client, "xiaozhang", PASSWORD)
    assert resp.status == 200
    body = await resp.json()
    assert body["token_type"] == "Bearer"
    assert body["staff"]["username"] == "xiaozhang"
    assert body["staff"]["phone"] == PHONE  # the account's own number, in full
    assert dt.datetime.fromisoformat(body["expires_at"]) > timezone.now()
    me = await client.get(ME, headers=_bearer(body["token"]))
    assert me.status == 200
    assert await me.json() == {
        "kind": "staff",
        "id": staff.id,
        "name": "xiaozhang 的名字",
        "roles": ["acceptor", "dispatcher"],
        "department_id": None,
        "grid_ids": [],
        "channel": None,
        "client": None,
        "must_change_password": False,
    }


async def test_wrong_password_is_401(client: TestClient[Any, Any]) -> None:
    await _staff("xiaozhang")
    await _error(await _login(client, "xiaozhang", "wrong-password"), 401, "bad_credentials")


async def test_unknown_user_gets_the_same_answer(client: TestClient[Any, Any]) -> None:
    body = await _error(await _login(client, "nobody", PASSWORD), 401, "bad_credentials")
    await _staff("somebody")
    other = await _error(await _login(client, "somebody", "wrong-password"), 401, "bad_credentials")
    assert body["message"] == other["message"]  # no hint which usernames exist


async def test_disabled_account_cannot_log_in(client: TestClient[Any, Any]) -> None:
    staff = await _staff("leaver")
    token = await _token(client, "leaver")
    await Staff.filter(id=staff.id).update(is_active=False)
    await _error(await _login(client, "leaver", PASSWORD), 401, "bad_credentials")
    await _error(await client.get(ME, headers=_bearer(token)), 401, "account_disabled")


# --- tokens --------------------------------------------------------------------------------------


async def test_no_token_is_401_token_missing(client: TestClient[Any, Any]) -> None:
    await _error(await client.get(ME), 401, "token_missing")


async def test_garbage_token_is_401_token_invalid(client: TestClient[Any, Any]) -> None:
    await _error(await client.get(ME, headers=_bearer("cl_not-a-token")), 401, "token_invalid")
    resp = await client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    await _error(resp, 401, "token_invalid")


async def test_expired_token_is_401_token_expired(client: TestClient[Any, Any]) -> None:
    staff = await _staff("xiaozhang")
    token, row = await issue_token(staff=staff, ttl=dt.timedelta(hours=1))
    assert (await client.get(ME, headers=_bearer(token))).status == 200
    past = timezone.now() - dt.timedelta(minutes=1)
    await AccessToken.filter(id=row.id).update(expires_at=past)
    await _error(await client.get(ME, headers=_bearer(token)), 401, "token_expired")


async def test_logout_revokes_the_token(client: TestClient[Any, Any]) -> None:
    await _staff("xiaozhang")
    token = await _token(client, "xiaozhang")
    other = await _token(client, "xiaozhang")  # a second device
    resp = await client.post("/api/v1/auth/logout", headers=_bearer(token))
    assert resp.status == 200
    assert await resp.json() == {"ok": True}
    await _error(await client.get(ME, headers=_bearer(token)), 401, "token_revoked")
    assert (await client.get(ME, headers=_bearer(other))).status == 200


async def test_admin_revokes_another_staffs_tokens(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    staff = await _staff("xiaozhang")
    first, second = await _token(client, "xiaozhang"), await _token(client, "xiaozhang")
    resp = await client.post(f"{STAFF}/{staff.id}/revoke-tokens", headers=_bearer(admin))
    assert resp.status == 200
    for token in (first, second):
        await _error(await client.get(ME, headers=_bearer(token)), 401, "token_revoked")
    assert (await client.get(ME, headers=_bearer(admin))).status == 200
    # Logging in again gives a working token.
    assert (await client.get(ME, headers=_bearer(await _token(client, "xiaozhang")))).status == 200


async def test_revoking_tokens_of_unknown_staff_is_404(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    await _error(
        await client.post(f"{STAFF}/99999/revoke-tokens", headers=_bearer(admin)), 404, "not_found"
    )


async def test_tokens_are_stored_hashed(client: TestClient[Any, Any]) -> None:
    await _staff("xiaozhang")
    token = await _token(client, "xiaozhang")
    rows = await AccessToken.all().values()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    for value in rows[0].values():
        assert token not in str(value)


# --- roles ---------------------------------------------------------------------------------------


async def test_wrong_role_is_403(client: TestClient[Any, Any]) -> None:
    await _staff("xiaozhang", "dispatcher")
    token = await _token(client, "xiaozhang")
    await _error(await client.get(STAFF, headers=_bearer(token)), 403, "role_forbidden")


async def test_citizen_token_knows_itself_but_not_the_departments(
    client: TestClient[Any, Any],
) -> None:
    citizen = await citizen_identity(
        channel="wechat", external_id="oAbCdEfGhIjKlMnOpQrStUvWxYz1", phone=PHONE
    )
    token, _ = await issue_token(citizen=citizen, ttl=dt.timedelta(hours=1))
    me = await client.get(ME, headers=_bearer(token))
    assert me.status == 200
    body = await me.json()
    assert (body["kind"], body["id"], body["roles"]) == ("citizen", citizen.id, [])
    resp = await client.get("/api/v1/departments", headers=_bearer(token))
    await _error(resp, 403, "role_forbidden")
    await _error(await client.get(STAFF, headers=_bearer(token)), 403, "role_forbidden")


# --- login throttling ----------------------------------------------------------------------------


def _from(address: str) -> dict[str, str]:
    """A request that came through the city's nginx on this host (a trusted proxy)."""
    return {"X-Forwarded-For": address}


async def _login_from(
    client: TestClient[Any, Any], address: str, username: str, password: str
) -> ClientResponse:
    body = {"username": username, "password": password}
    return await client.post(LOGIN, json=body, headers=_from(address))


async def test_repeated_failures_make_the_username_wait_for_that_address_only(
    aiohttp_client: Any, settings: Settings
) -> None:
    strict = settings.model_copy(update={"login_max_failures": 3, "login_lock_minutes": 7})
    client = await aiohttp_client(create_app(strict))
    await _staff("xiaozhang")
    attacker, office = "203.0.113.9", "198.51.100.20"
    for _ in range(3):
        resp = await _login_from(client, attacker, "xiaozhang", "wrong-password")
        await _error(resp, 401, "bad_credentials")
    resp = await _login_from(client, attacker, "xiaozhang", PASSWORD)
    body = await _error(resp, 429, "account_locked")
    assert "7 分钟" in body["message"]
    assert await AccessToken.all().count() == 0
    # Nobody can lock an account for everyone else: from the office, 小张 logs in.
    assert (await _login_from(client, office, "xiaozhang", PASSWORD)).status == 200


async def test_unknown_and_known_usernames_are_answered_alike(
    aiohttp_client: Any, settings: Settings
) -> None:
    """The 429 must not tell an attacker which usernames exist."""
    strict = settings.model_copy(update={"login_max_failures": 2})
    client = await aiohttp_client(create_app(strict))
    await _staff("xiaozhang")

    async def answers(username: str) -> list[tuple[int, str, str]]:
        seen = []
        for _ in range(4):
            resp = await _login_from(client, "203.0.113.9", username, "wrong-password")
            body = await resp.json()
            seen.append((resp.status, body["code"], body["message"]))
        return seen

    known, unknown = await answers("xiaozhang"), await answers("nobody-here")
    assert known == unknown
    assert [a[:2] for a in known] == [(401, "bad_credentials")] * 2 + [(429, "account_locked")] * 2


async def test_the_wait_ends_with_its_window(aiohttp_client: Any, settings: Settings) -> None:
    # On the database's kv, to reach the counters' expiry (on Redis: tests/core/test_kv.py).
    strict = settings.model_copy(update={"login_max_failures": 2, "redis_url": None})
    client = await aiohttp_client(create_app(strict))
    await _staff("xiaozhang")
    for _ in range(2):
        await _login(client, "xiaozhang", "wrong-password")
    await _error(await _login(client, "xiaozhang", PASSWORD), 429, "account_locked")
    # The window's time is up (the counters are short-lived rows on the embedded default).
    past = timezone.now() - dt.timedelta(seconds=1)
    assert await KeyValueItem.filter(key__startswith="login:").update(expires_at=past)
    assert (await _login(client, "xiaozhang", PASSWORD)).status == 200


async def test_one_address_failing_at_many_usernames_is_throttled(
    aiohttp_client: Any, settings: Settings
) -> None:
    strict = settings.model_copy(update={"login_address_max_failures": 4, "login_lock_minutes": 9})
    client = await aiohttp_client(create_app(strict))
    await _staff("xiaozhang")
    scanner = "203.0.113.50"
    for name in ("admin", "root", "test", "xiaozhang"):
        await _error(await _login_from(client, scanner, name, "123456"), 401, "bad_credentials")
    resp = await _login_from(client, scanner, "xiaozhang", PASSWORD)
    body = await _error(resp, 429, "too_many_attempts")
    assert "9 分钟" in body["message"]
    assert (await _login_from(client, "198.51.100.20", "xiaozhang", PASSWORD)).status == 200


async def test_a_forwarded_address_counts_only_from_a_trusted_proxy(
    aiohttp_client: Any, settings: Settings
) -> None:
    """Without trusted proxies, X-Forwarded-For is the client's own word: not believed."""
    direct = settings.model_copy(update={"login_max_failures": 2, "trusted_proxies": ()})
    client = await aiohttp_client(create_app(direct))
    await _staff("xiaozhang")
    for i in range(2):
        await _login_from(client, f"198.51.100.{i}", "xiaozhang", "wrong-password")
    resp = await _login_from(client, "198.51.100.99", "xiaozhang", PASSWORD)
    await _error(resp, 429, "account_locked")  # every try came from the same peer


async def test_successful_login_resets_the_failure_count(
    aiohttp_client: Any, settings: Settings
) -> None:
    strict = settings.model_copy(update={"login_max_failures": 2})
    client = await aiohttp_client(create_app(strict))
    await _staff("xiaozhang")
    for _ in range(3):  # fail, succeed, fail, succeed...: never two failures in a row
        await _error(await _login(client, "xiaozhang", "wrong-password"), 401, "bad_credentials")
        assert (await _login(client, "xiaozhang", PASSWORD)).status == 200


# --- staff accounts ------------------------------------------------------------------------------


async def test_admin_sees_full_phone_numbers(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    await _staff("xiaozhang", phone=PHONE)
    resp = await client.get(STAFF, headers=_bearer(admin))
    assert resp.status == 200
    items = {s["username"]: s for s in (await resp.json())["items"]}
    assert set(items) == {"boss", "xiaozhang"}
    assert items["xiaozhang"]["phone"] == PHONE
    assert "password_hash" not in items["xiaozhang"]


def _new_staff(**changes: Any) -> dict[str, Any]:
    body = {
        "username": "new.person",
        "password": "a-long-enough-password",
        "display_name": "新同事",
        "roles": ["acceptor"],
        "phone": PHONE,
    }
    return {**body, **changes}


async def test_admin_creates_staff_who_can_log_in(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(), headers=_bearer(admin))
    assert resp.status == 201
    body = await resp.json()
    assert (body["username"], body["roles"], body["phone"]) == ("new.person", ["acceptor"], PHONE)
    assert (await _login(client, "new.person", "a-long-enough-password")).status == 200


async def test_short_password_is_422_naming_password(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(password="short123"), headers=_bearer(admin))
    body = await _error(resp, 422, "validation_error")
    assert [f["field"] for f in body["fields"]] == ["password"]
    assert not await Staff.filter(username="new.person").exists()


async def test_duplicate_username_is_409(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(username="boss"), headers=_bearer(admin))
    await _error(resp, 409, "username_taken")
    assert await Staff.filter(username="boss").count() == 1


async def test_unknown_field_is_422_naming_it(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(is_superuser=True), headers=_bearer(admin))
    body = await _error(resp, 422, "validation_error")
    assert [(f["field"], f["type"]) for f in body["fields"]] == [
        ("is_superuser", "extra_forbidden")
    ]


async def test_unknown_role_is_422(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(roles=["superuser"]), headers=_bearer(admin))
    body = await _error(resp, 422, "validation_error")
    assert [f["field"] for f in body["fields"]] == ["roles.0"]


def _run(args: list[str], env: dict[str, str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, input=stdin, capture_output=True, text=True)


async def test_a_handler_without_a_department_is_refused(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(roles=["handler"]), headers=_bearer(admin))
    body = await _error(resp, 422, "department_required")
    assert body["message"] == "处置人员必须属于一个部门"
    assert not await Staff.filter(username="new.person").exists()
    # The command line says the same, and takes no password as an argument (`ps` shows those).
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLOOP_")}
    env["CITYLOOP_DATABASE_URL"] = settings.database_url
    cli = [sys.executable, "-m", "core.cli", "create-user", "new.person", "--role", "handler"]
    done = _run(cli, env, "a-long-enough-password\n")
    assert done.returncode != 0 and "处置人员必须属于一个部门" in done.stderr
    done = _run([*cli, "--password", "x"], env, "")
    assert done.returncode == 2 and "--password" in done.stderr
    assert not await Staff.filter(username="new.person").exists()


async def test_non_admin_cannot_create_staff(client: TestClient[Any, Any]) -> None:
    await _staff("xiaozhang", "shift_lead")
    token = await _token(client, "xiaozhang")
    resp = await client.post(STAFF, json=_new_staff(roles=["admin"]), headers=_bearer(token))
    await _error(resp, 403, "role_forbidden")
    assert not await Staff.filter(username="new.person").exists()


async def test_unknown_department_is_422_naming_it(client: TestClient[Any, Any]) -> None:
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(department_id=99999), headers=_bearer(admin))
    body = await _error(resp, 422, "validation_error")
    assert [f["field"] for f in body["fields"]] == ["department_id"]
    assert not await Staff.filter(username="new.person").exists()


async def test_phone_longer_than_the_column_is_422(client: TestClient[Any, Any]) -> None:
    # "+" and 20 digits pass the pattern, but the column holds 20 characters.
    admin = await _admin_token(client)
    resp = await client.post(STAFF, json=_new_staff(phone="+" + "8" * 20), headers=_bearer(admin))
    body = await _error(resp, 422, "validation_error")
    assert [f["field"] for f in body["fields"]] == ["phone"]


async def test_create_user_keeps_the_password_policy_and_the_audit(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    from core.audit.models import AuditEntry

    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLOOP_")}
    env["CITYLOOP_DATABASE_URL"] = settings.database_url
    cli = [sys.executable, "-m", "core.cli", "create-user", "chief", "--role", "admin"]
    done = _run(cli, env, "chief-2026-pass\n")
    assert done.returncode != 0 and "密码不能包含用户名" in done.stderr
    done = _run(cli, env, "a-long-enough-password\n")
    assert done.returncode == 0, done.stderr
    entry = await AuditEntry.get(action="staff.create")
    assert entry.actor.startswith("cli:") and entry.after and entry.after["username"] == "chief"
