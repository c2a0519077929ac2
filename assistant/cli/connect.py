"""`assistant connect youtube|tiktok`: connect a publishing account from the terminal.

YouTube uses Google's device flow (OAuth 2.0 for limited-input devices): the command prints a
verification URL and a code to enter there from any browser, and waits for the approval.
TikTok has no device flow for posting: the command prints the consent link, whose redirect the
web app (`assistant chat`) must be serving at ASSISTANT_PUBLIC_BASE_URL.
"""

from __future__ import annotations

import typer

from assistant.cli.common import check_cli_user, console, services
from assistant.config import Settings
from assistant.errors import InputError


def connect(
    platform: str = typer.Argument(..., help="youtube or tiktok"),
    user: str | None = typer.Option(None, "--user", help="Whose account it becomes "
                                    "(default: ASSISTANT_DEFAULT_USER)."),
) -> None:
    """Connect a YouTube or TikTok account to publish to."""
    from assistant.tools.publishing import oauth
    from assistant.tools.publishing.accounts import Owner

    settings = Settings()
    check_cli_user(settings, user)
    platform = platform.strip().lower()
    if platform not in ("youtube", "tiktok"):
        raise InputError(f"`assistant connect` takes youtube or tiktok, not {platform!r}; "
                         "other platforms connect from the chat (/connect)")
    oauth.provider(settings, platform)  # the clear line when it is not configured
    with services() as svc:
        owner = Owner.profile(svc.repo.ensure_user(user or settings.default_user))
        if platform == "tiktok":
            url = oauth.authorization_url(settings, "tiktok", owner)
            console.print("Open this link and approve; TikTok sends you back to "
                          f"{oauth.redirect_uri(settings, 'tiktok')} (the web app must be "
                          "running there):")
            print(url, flush=True)
            return
        device = oauth.device_start(settings)
        console.print(f"Open [bold]{device.verification_url}[/] and enter the code "
                      f"[bold]{device.user_code}[/] (valid {device.expires_in // 60} minutes); "
                      "waiting for your approval...")
        info = oauth.device_finish(settings, svc.db, owner, device)
    console.print(f"connected YouTube: {info.display_name}")
