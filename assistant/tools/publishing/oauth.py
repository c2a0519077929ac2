"""Connecting YouTube and TikTok accounts: OAuth 2.0 authorization code flow with PKCE (the
web app serves the redirect, ``/oauth/<platform>/callback``), Google's device flow for people
on the command line, and refreshing expired tokens.

Chat (``/connect youtube``) -> :func:`authorization_url`: the provider's consent page, with
a PKCE challenge and a ``state`` that binds the request to the person who asked. The state
is an itsdangerous timed signature (assistant/infra/signing.py, 15 minutes) over a Fernet
token holding the owner, the platform and the PKCE verifier, so the verifier never appears in
a URL and a state cannot be forged, moved to another person or reused after it expires. The
callback -> :func:`complete`: the state is checked, the code exchanged at the token endpoint,
and the tokens stored encrypted through the accounts store.

What is stored is what a refresh needs: the tokens, their expiry, and the OAuth client they
were issued to (token endpoint, client id and secret, like Google's authorized-user files), so
the refreshers registered here work from the stored credentials alone. TikTok's refresh
token rotates: a refresh stores the new one.

PKCE challenges: Google takes base64url(SHA-256(verifier)) (RFC 7636 S256); TikTok's Login Kit
documents the hex SHA-256 of the verifier instead.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from assistant.config import Settings
from assistant.errors import ConfigError, InputError
from assistant.infra import signing
from assistant.tools.publishing.accounts import (
    AccountInfo,
    AccountStore,
    Owner,
    fernet_for,
    register_refresher,
)
from storage.db import Database

log = logging.getLogger(__name__)

STATE_MAX_AGE_S = 900
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
# Web sign-in asks for uploading and reading statistics only; Google's device flow accepts a
# short list of scopes, where YouTube's is the broader youtube scope.
YOUTUBE_SCOPES = ("https://www.googleapis.com/auth/youtube.upload",
                  "https://www.googleapis.com/auth/youtube.readonly")
YOUTUBE_DEVICE_SCOPE = "https://www.googleapis.com/auth/youtube"
TIKTOK_SCOPES = ("user.info.basic", "video.upload", "video.publish", "video.list")


@dataclass(frozen=True)
class Provider:
    platform: str
    title: str
    client_id: str
    client_secret: str
    auth_url: str
    token_url: str
    scope: str
    id_param: str  # Google: client_id, TikTok: client_key
    challenge: Callable[[str], str]
    extra: tuple[tuple[str, str], ...] = ()


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _hex256(verifier: str) -> str:
    return hashlib.sha256(verifier.encode("ascii")).hexdigest()


def provider(settings: Settings, platform: str) -> Provider:
    """The OAuth client for ``platform``; one clear line when it is not configured."""
    if platform == "youtube":
        secret = settings.youtube_client_secret
        if not settings.youtube_client_id or secret is None:
            raise ConfigError("YouTube is not set up here: the operator sets "
                              "ASSISTANT_YOUTUBE_CLIENT_ID and ASSISTANT_YOUTUBE_CLIENT_SECRET "
                              "(a Google OAuth client with the YouTube Data API enabled)")
        return Provider("youtube", "YouTube", settings.youtube_client_id,
                        secret.get_secret_value(), settings.youtube_auth_url,
                        settings.youtube_token_url, " ".join(YOUTUBE_SCOPES), "client_id", _s256,
                        (("access_type", "offline"), ("prompt", "consent"),
                         ("include_granted_scopes", "true")))
    if platform == "tiktok":
        secret = settings.tiktok_client_secret
        if not settings.tiktok_client_key or secret is None:
            raise ConfigError("TikTok is not set up here: the operator sets "
                              "ASSISTANT_TIKTOK_CLIENT_KEY and ASSISTANT_TIKTOK_CLIENT_SECRET "
                              "(a TikTok for Developers app with Content Posting)")
        return Provider("tiktok", "TikTok", settings.tiktok_client_key,
                        secret.get_secret_value(), settings.tiktok_auth_url,
                        settings.tiktok_api_url.rstrip("/") + "/v2/oauth/token/",
                        ",".join(TIKTOK_SCOPES), "client_key", _hex256)
    raise InputError(f"{platform!r} does not connect by OAuth here (youtube, tiktok do)")


def redirect_uri(settings: Settings, platform: str) -> str:
    """Where the provider sends the person back: the web app's callback route."""
    base = settings.public_base_url or f"http://{settings.chat_host}:{settings.chat_port}"
    return f"{base.rstrip('/')}/oauth/{platform}/callback"


# --- authorization code flow with PKCE ----------------------------------------------------


def authorization_url(settings: Settings, platform: str, owner: Owner, *,
                      redirect: str | None = None) -> str:
    """The consent page the person opens; its state binds the answer to ``owner``.
    ``redirect``: another return address than the web app's (the CLI's loopback one); the
    state remembers it, since the code exchange must name the same."""
    client = provider(settings, platform)
    verifier = secrets.token_urlsafe(64)  # 86 characters of the unreserved set
    back = redirect or redirect_uri(settings, platform)
    sealed = fernet_for(settings.secret_key).encrypt(json.dumps(
        {"o": owner.key, "p": platform, "v": verifier, "r": back}).encode())
    state = signing.timed_signer(settings, "oauth-state").sign(sealed).decode("ascii")
    params = {client.id_param: client.client_id, "response_type": "code",
              "redirect_uri": back, "scope": client.scope,
              "state": state, "code_challenge": client.challenge(verifier),
              "code_challenge_method": "S256", **dict(client.extra)}
    return f"{client.auth_url}?{urllib.parse.urlencode(params)}"


def connect_line(settings: Settings, platform: str, owner: Owner) -> str:
    """What /connect youtube|tiktok answers in the chat: the consent link, in one message."""
    title = provider(settings, platform).title
    url = authorization_url(settings, platform, owner)
    back = redirect_uri(settings, platform)
    where = "" if settings.public_base_url else (
        f" (it returns to {back}: set ASSISTANT_PUBLIC_BASE_URL when the web app is served "
        "elsewhere)")
    return (f"Open this link to connect {title}; it works for {STATE_MAX_AGE_S // 60} minutes "
            f"and only for you{where}: {url}")


def read_state(settings: Settings, platform: str, state: str) -> tuple[Owner, str, str]:
    """The owner, PKCE verifier and return address a state was made for; InputError when it
    is forged, expired or for another platform."""
    try:
        sealed = signing.timed_signer(settings, "oauth-state").unsign(
            state.encode("ascii"), max_age=STATE_MAX_AGE_S)
        data = json.loads(fernet_for(settings.secret_key).decrypt(sealed))
        kind, _, owner_id = str(data["o"]).partition(":")
        owner = Owner.profile(owner_id) if kind == "profile" else Owner.organization(owner_id)
    except signing.SignatureExpired:
        raise InputError("that connect link has expired: send /connect "
                         f"{platform} again") from None
    except (signing.BadSignature, ValueError, KeyError, UnicodeError, TypeError):
        raise InputError("that connect link is not valid here: send /connect "
                         f"{platform} again") from None
    except Exception as exc:  # cryptography's InvalidToken and friends
        raise InputError(f"that connect link is not valid here: send /connect {platform} "
                         "again") from exc
    if data.get("p") != platform:
        raise InputError(f"that connect link is not for {platform}")
    return owner, str(data["v"]), str(data.get("r") or redirect_uri(settings, platform))


def complete(settings: Settings, db: Database, platform: str, code: str,
             state: str) -> AccountInfo:
    """The callback's work: check the state, exchange the code, store the account."""
    owner, verifier, back = read_state(settings, platform, state)
    client = provider(settings, platform)
    if not code:
        raise InputError(f"{client.title} sent no authorization code: connect again")
    tokens = _token_request(client, {
        "grant_type": "authorization_code", "code": code, "code_verifier": verifier,
        "redirect_uri": back})
    return _store(settings, db, owner, client, tokens)


# --- Google's device flow (the CLI) -----------------------------------------------------------


@dataclass(frozen=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_url: str
    expires_in: int
    interval: int


def device_start(settings: Settings) -> DeviceCode:
    """Ask Google for a user code the person enters at its verification URL."""
    client = provider(settings, "youtube")
    answer = _post(client, settings.youtube_device_url,
                   {"client_id": client.client_id, "scope": YOUTUBE_DEVICE_SCOPE})
    try:
        return DeviceCode(str(answer["device_code"]), str(answer["user_code"]),
                          str(answer.get("verification_url") or answer["verification_uri"]),
                          int(answer["expires_in"]), int(answer.get("interval", 5)))
    except (KeyError, ValueError) as exc:
        raise ConfigError("Google's device endpoint answered without a user code") from exc


def device_finish(settings: Settings, db: Database, owner: Owner, device: DeviceCode, *,
                  sleep: Callable[[float], None] = time.sleep) -> AccountInfo:
    """Poll the token endpoint at the interval Google asks until the person approves (or
    declines, or the code expires); then store the account."""
    client = provider(settings, "youtube")
    interval = float(device.interval)
    deadline = time.monotonic() + device.expires_in
    while True:
        answer = _post(client, client.token_url, {
            "client_id": client.client_id, "client_secret": client.client_secret,
            "device_code": device.device_code, "grant_type": DEVICE_GRANT}, raise_error=False)
        error = answer.get("error")
        if not error:
            return _store(settings, db, owner, client, answer)
        if error == "access_denied":
            raise InputError("the YouTube sign-in was declined: nothing was connected")
        if error == "expired_token" or time.monotonic() > deadline:
            raise InputError("the code expired before it was entered: run the command again")
        if error == "slow_down":  # RFC 8628: wait 5 s longer from now on
            interval += 5
        elif error != "authorization_pending":
            raise ConfigError(f"Google refused the device sign-in ({error})")
        sleep(interval)


# --- refreshing ------------------------------------------------------------------------------


def refresh(credentials: dict[str, Any]) -> tuple[dict[str, Any], datetime | None]:
    """A fresh access token for stored credentials (the accounts store's refresher). On
    failure the stored ones are kept: the publisher then says in one line to reconnect."""
    platform = "tiktok" if credentials.get("client_key") else "youtube"
    client = Provider(platform, platform, str(credentials.get("client_id") or
                                              credentials.get("client_key") or ""),
                      str(credentials.get("client_secret") or ""), "",
                      str(credentials.get("token_uri") or ""), "",
                      "client_key" if platform == "tiktok" else "client_id", _s256)
    try:
        answer = _token_request(client, {"grant_type": "refresh_token",
                                         "refresh_token": credentials.get("refresh_token", "")})
    except (ConfigError, InputError) as exc:
        log.warning("%s: refreshing the token failed: %s", platform, exc.user_message)
        return credentials, _expiry_of(credentials)
    fresh = dict(credentials, access_token=answer["access_token"],
                 expiry=_expires(answer).isoformat())
    if answer.get("refresh_token"):  # TikTok rotates it; Google keeps the old one valid
        fresh["refresh_token"] = answer["refresh_token"]
    return fresh, _expires(answer)


register_refresher("youtube", refresh)
register_refresher("tiktok", refresh)


# --- the pieces ------------------------------------------------------------------------------


def _token_request(client: Provider, form: dict[str, Any]) -> dict[str, Any]:
    return _post(client, client.token_url, {client.id_param: client.client_id,
                                            "client_secret": client.client_secret, **form})


def _post(client: Provider, url: str, form: dict[str, Any], *,
          raise_error: bool = True) -> dict[str, Any]:
    try:
        answer = httpx.post(url, data=form, timeout=30.0,
                            headers={"Accept": "application/json"})
        payload = answer.json()
    except httpx.HTTPError as exc:
        raise ConfigError(f"cannot reach {client.title}'s sign-in server "
                          f"({type(exc).__name__}): try again shortly") from None
    except ValueError:
        raise ConfigError(f"{client.title}'s sign-in server answered HTTP "
                          f"{answer.status_code} without JSON") from None
    if not isinstance(payload, dict):
        raise ConfigError(f"{client.title}'s sign-in server answered an unexpected shape")
    if raise_error and payload.get("error"):
        error = str(payload["error"])
        if error in ("invalid_client", "unauthorized_client"):
            raise ConfigError(f"{client.title} does not accept this app's OAuth client "
                              f"({error}): the operator checks its client id and secret")
        raise InputError(f"{client.title} refused the sign-in ({error}): connect again with "
                         f"/connect {client.platform}")
    return payload


def _expires(answer: dict[str, Any]) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=int(answer.get("expires_in") or 3600))


def _expiry_of(credentials: dict[str, Any]) -> datetime | None:
    value = credentials.get("expiry")
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _store(settings: Settings, db: Database, owner: Owner, client: Provider,
           tokens: dict[str, Any]) -> AccountInfo:
    if not tokens.get("access_token") or not tokens.get("refresh_token"):
        raise InputError(f"{client.title} gave no refresh token: remove this app's access in "
                         f"your {client.title} account settings and connect again")
    expires = _expires(tokens)
    credentials = {"access_token": tokens["access_token"],
                   "refresh_token": tokens["refresh_token"], "expiry": expires.isoformat(),
                   "scope": tokens.get("scope", ""), "token_uri": client.token_url,
                   client.id_param: client.client_id, "client_secret": client.client_secret}
    if tokens.get("open_id"):
        credentials["open_id"] = tokens["open_id"]
    name = _display_name(settings, client.platform, str(tokens["access_token"]))
    store = AccountStore.from_settings(settings, db)
    return store.store(owner, client.platform, name, credentials, expires_at=expires)


def _display_name(settings: Settings, platform: str, access_token: str) -> str:
    """The channel title (YouTube) or display name (TikTok) /platforms shows; 'YouTube
    account' when the profile cannot be read (the account works all the same)."""
    title = "YouTube" if platform == "youtube" else "TikTok"
    if platform == "youtube":
        url = settings.youtube_api_url.rstrip("/") + "/youtube/v3/channels"
        params = {"part": "snippet", "mine": "true"}
    else:
        url = settings.tiktok_api_url.rstrip("/") + "/v2/user/info/"
        params = {"fields": "open_id,display_name"}
    try:
        answer = httpx.get(url, params=params, timeout=15.0,
                           headers={"Authorization": f"Bearer {access_token}"}).json()
        if platform == "youtube":
            name = answer["items"][0]["snippet"]["title"]
        else:
            name = answer["data"]["user"]["display_name"]
    except (httpx.HTTPError, ValueError, KeyError, IndexError, TypeError):
        return f"{title} account"
    return str(name)[:200] or f"{title} account"
