"""WordPress through its REST API with an application password (Users > Profile >
Application Passwords; WordPress 5.6+ core, no plugin).

1. the featured image: ``POST /wp-json/wp/v2/media``, the file as the body with
   ``Content-Disposition: attachment; filename=...``;
2. tags by name (``GET /wp/v2/tags?search=``, created with ``POST /wp/v2/tags`` when missing),
   categories likewise when the account names any;
3. the post: ``POST /wp-json/wp/v2/posts`` with title, content (the piece's markdown as HTML,
   markdown-it), ``featured_media``, ``tags``, ``categories``, status ``draft`` / ``publish``,
   or ``future`` with ``date_gmt`` for a scheduled one.

Idempotent: the post's slug is the job's (``<title words>-<job id>``), and both the media and
the post ids are saved as progress the moment WordPress answers. A retry uses the saved ids; a
restart that lost them (killed between WordPress's answer and our save) finds the post by its
slug (``GET /wp/v2/posts?slug=...&status=...``) before creating one.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping
from datetime import UTC
from typing import Any

import httpx
from markdown_it import MarkdownIt

from assistant.config import Settings
from assistant.content import Publication
from assistant.infra.netguard import public_transport
from assistant.tools.publishing.base import (
    Limits,
    PublishError,
    PublishRequest,
    check_limits,
    private_address_refusal,
)

CONNECT_HINT = ("/connect wordpress URL USER (the application password is asked privately), "
                "or set ASSISTANT_WORDPRESS_URL, _USER and _APP_PASSWORD")
ANY_STATUS = "publish,future,draft,pending,private"


def credentials_from_settings(settings: Settings) -> dict[str, Any]:
    password = settings.wordpress_app_password
    if not (settings.wordpress_url and settings.wordpress_user and password):
        return {}
    return {"url": settings.wordpress_url, "user": settings.wordpress_user,
            "app_password": password.get_secret_value(),
            "categories": settings.wordpress_categories}


def job_slug(title: str, job_id: str) -> str:
    words = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60].strip("-")
    return f"{words}-{job_id}".strip("-").lower()


def body_html(markdown: str, title: str) -> str:
    """The piece as HTML, without the leading '# Title' (WordPress shows the title itself)."""
    lines = markdown.lstrip().splitlines()
    if lines and lines[0].startswith("# ") and lines[0][2:].strip() == title.strip():
        lines = lines[1:]
    return MarkdownIt("commonmark").render("\n".join(lines)).strip()


class WordPressPublisher:
    name = "wordpress"
    limits = Limits(needs=("markdown",), max_bytes={"thumbnail": 20_000_000},
                    credentials=("url", "user", "app_password"), connect_hint=CONNECT_HINT)
    schedules_itself = True  # 'future' posts: WordPress publishes them at date_gmt

    def __init__(self, settings: Settings, transport: httpx.BaseTransport | None = None) -> None:
        self.status = settings.wordpress_status
        self.timeout = settings.publish_timeout_s
        # the person chose this address (/connect): connect only to a public address, checked
        # at each connection, unless the operator allows private ones (a LAN site, the tests)
        self.transport = transport or (None if settings.publish_allow_private
                                       else public_transport())

    def verify(self, credentials: Mapping[str, Any]) -> str:
        """Who the credentials log in as ('Ada on blog.example.com'); PublishError if none."""
        with self._client(credentials) as client:
            me = _call(client, "GET", "/wp/v2/users/me", params={"context": "edit"}).json()
            return f"{me.get('name') or me.get('username')} on {client.base_url.host}"

    def check(self, request: PublishRequest) -> list[str]:
        problems = check_limits(self.name, self.limits, request)
        url = str(request.credentials.get("url", ""))
        if url and not re.match(r"^https?://[^/\s]+", url):
            problems.append(f"wordpress: {url!r} is not a site address (https://...)")
        return problems

    def publish(self, request: PublishRequest) -> Publication:
        with self._client(request.credentials) as client:
            # who we are, first: WordPress answers a wrong application password by treating
            # the request as anonymous, whose errors ('invalid status') would mislead
            _call(client, "GET", "/wp/v2/users/me", params={"context": "edit"})
            post = self._existing_post(client, request)
            if post is None:
                media_id = self._featured_media(client, request)
                post = self._create_post(client, request, media_id)
        return _publication(post)

    def metrics(self, publication: Publication, credentials: Mapping[str, Any]
                ) -> dict[str, float]:
        """Approved comments on the post (WordPress counts nothing else without plugins)."""
        with self._client(credentials) as client:
            answer = _call(client, "GET", "/wp/v2/comments",
                           params={"post": publication.post_id, "per_page": 1})
            return {"comments": float(answer.headers.get("X-WP-Total", "0") or 0)}

    # --- steps ----------------------------------------------------------------------------
    def _existing_post(self, client: httpx.Client, request: PublishRequest
                       ) -> dict[str, Any] | None:
        post_id = request.resume.get("post_id")
        if post_id:
            answer = _call(client, "GET", f"/wp/v2/posts/{post_id}",
                           params={"context": "edit"}, missing_ok=True)
            if answer.status_code == 200:
                return dict(answer.json())
        slug = job_slug(request.script.title, request.job_id)
        found = _call(client, "GET", "/wp/v2/posts",
                      params={"slug": slug, "status": ANY_STATUS, "context": "edit"}).json()
        if isinstance(found, list) and found:
            request.progress(post_id=found[0]["id"])
            return dict(found[0])
        return None

    def _featured_media(self, client: httpx.Client, request: PublishRequest) -> int | None:
        if request.resume.get("media_id"):
            return int(request.resume["media_id"])
        image = request.file("thumbnail")
        if image is None:
            return None
        slug = job_slug(request.script.title, request.job_id) + "-featured"
        found = _call(client, "GET", "/wp/v2/media", params={"slug": slug}).json()
        if isinstance(found, list) and found:
            media_id = int(found[0]["id"])
        else:
            mime = mimetypes.guess_type(image.name)[0] or "application/octet-stream"
            answer = _call(client, "POST", "/wp/v2/media", content=image.read_bytes(),
                           params={"slug": slug, "title": request.script.title,
                                   "alt_text": request.script.title},
                           headers={"Content-Type": mime, "Content-Disposition":
                                    f'attachment; filename="{slug}{image.suffix}"'})
            media_id = int(answer.json()["id"])
        request.progress(media_id=media_id)
        return media_id

    def _create_post(self, client: httpx.Client, request: PublishRequest,
                     media_id: int | None) -> dict[str, Any]:
        script = request.script
        body: dict[str, Any] = {
            "title": script.title,
            "content": body_html(request.markdown(), script.title),
            "excerpt": script.description,
            "slug": job_slug(script.title, request.job_id),
            "status": self.status,
        }
        if media_id:
            body["featured_media"] = media_id
        tags = [t.lstrip("#") for t in script.hashtags if t.lstrip("#")]
        if tags:
            body["tags"] = [_term_id(client, "tags", name) for name in tags]
        categories = [c for c in str(request.credentials.get("categories", "")).split(",")
                      if c.strip()]
        if categories:
            body["categories"] = [_term_id(client, "categories", c.strip()) for c in categories]
        if request.publish_at is not None:
            # WordPress publishes a 'future' post at date_gmt (at once when it is past); a
            # draft stays a draft, dated
            if self.status == "publish":
                body["status"] = "future"
            body["date_gmt"] = request.publish_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        post = dict(_call(client, "POST", "/wp/v2/posts", json=body).json())
        request.progress(post_id=post["id"])
        return post

    def _client(self, credentials: Mapping[str, Any]) -> httpx.Client:
        base = str(credentials.get("url", "")).rstrip("/")
        return httpx.Client(
            base_url=f"{base}/wp-json", timeout=self.timeout, transport=self.transport,
            auth=(str(credentials.get("user", "")), str(credentials.get("app_password", ""))),
            headers={"Accept": "application/json"})


def _term_id(client: httpx.Client, taxonomy: str, name: str) -> int:
    """The id of the tag or category called ``name``, created when there is none."""
    found = _call(client, "GET", f"/wp/v2/{taxonomy}",
                  params={"search": name, "per_page": 100}).json()
    for term in found if isinstance(found, list) else []:
        if str(term.get("name", "")).lower() == name.lower():
            return int(term["id"])
    answer = _call(client, "POST", f"/wp/v2/{taxonomy}", json={"name": name}, exists_ok=True)
    data = answer.json()
    if answer.status_code == 400:  # term_exists: another writer made it meanwhile
        return int(data["data"]["term_id"])
    return int(data["id"])


def _call(client: httpx.Client, method: str, path: str, *, missing_ok: bool = False,
          exists_ok: bool = False, **kwargs: Any) -> httpx.Response:
    """One request; a refusal becomes one line with WordPress's own code and message."""
    try:
        answer = client.request(method, path, **kwargs)
    except httpx.HTTPError as err:
        refused = private_address_refusal("wordpress", err)
        if refused is not None:
            raise refused from None
        raise PublishError("wordpress", f"{client.base_url.host} cannot be reached "
                           f"({type(err).__name__})", detail=str(err)) from err
    if answer.status_code < 400 or (missing_ok and answer.status_code == 404):
        return answer
    code, message = _wp_error(answer)
    if exists_ok and code == "term_exists":
        return answer
    if answer.status_code in (401, 403):
        raise PublishError("wordpress", f"the site refused the user or application password "
                           f"({code}: {message})")
    raise PublishError("wordpress", f"{method} {path} failed with {answer.status_code} "
                       f"({code}: {message})")


def _wp_error(answer: httpx.Response) -> tuple[str, str]:
    try:
        data = answer.json()
    except ValueError:
        return "not_json", answer.text[:120].strip() or answer.reason_phrase
    if not isinstance(data, dict):
        return "unexpected", str(data)[:120]
    message = re.sub(r"<[^>]+>", "", str(data.get("message", "")))[:200]
    return str(data.get("code", "error")), message


def _publication(post: Mapping[str, Any]) -> Publication:
    remote = str(post.get("status", ""))
    return Publication(
        platform="wordpress", location=str(post.get("link", "")), url=str(post.get("link", "")),
        post_id=str(post["id"]), status="scheduled" if remote == "future" else "published",
        meta={"remote_status": remote, "featured_media": post.get("featured_media")})
