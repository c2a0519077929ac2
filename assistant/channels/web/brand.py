"""The web chat's look: logo, icon, login picture and wording, written into Chainlit's app
root at start-up (kept as code so a wheel needs no extra package data)."""

from __future__ import annotations

import json
from pathlib import Path

TEAL, DEEP, FOAM = "#0e7490", "#164e63", "#ecfeff"

_MARK = (f'<rect width="64" height="64" rx="14" fill="{TEAL}"/>'
         '<path d="M8 38c6-7 12-7 18 0s12 7 18 0 10-7 12-4" fill="none" stroke="#fff" '
         'stroke-width="5" stroke-linecap="round"/>'
         '<path d="M8 24c6-7 12-7 18 0s12 7 18 0 10-7 12-4" fill="none" stroke="#a5f3fc" '
         'stroke-width="4" stroke-linecap="round" opacity=".9"/>')

ICON = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">{_MARK}</svg>\n'


def _logo(text_color: str) -> str:
    return ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 330 64" width="330" '
            f'height="64"><g transform="translate(0 4) scale(.875)">{_MARK}</g>'
            f'<text x="68" y="43" font-family="Inter, DejaVu Sans, Arial, sans-serif" '
            f'font-size="30" font-weight="700" fill="{text_color}" textLength="255" '
            'lengthAdjust="spacingAndGlyphs">AgenticAI Lab</text></svg>\n')


LOGIN_PICTURE = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 800 1000"
 preserveAspectRatio="xMidYMid slice">
<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1">
<stop offset="0" stop-color="{FOAM}"/><stop offset=".55" stop-color="#a5f3fc"/>
<stop offset="1" stop-color="{TEAL}"/></linearGradient></defs>
<rect width="800" height="1000" fill="url(#sky)"/>
<circle cx="600" cy="230" r="90" fill="#fff" opacity=".85"/>
<path d="M0 620c130-60 270-60 400 0s270 60 400 0v380H0z" fill="#22d3ee" opacity=".55"/>
<path d="M0 700c130-60 270-60 400 0s270 60 400 0v300H0z" fill="{TEAL}" opacity=".8"/>
<path d="M0 790c130-60 270-60 400 0s270 60 400 0v210H0z" fill="{DEEP}"/>
<text x="400" y="925" text-anchor="middle" font-family="Inter, DejaVu Sans, Arial, sans-serif"
 font-size="32" fill="#ecfeff">Researched, reviewed, published.</text>
</svg>
"""

# Chainlit's colours are HSL triplets on CSS variables; ours are the logo's teal.
THEME = {
    "custom_fonts": [],  # none: the page must not fetch web fonts
    "variables": {
        "light": {"--primary": "192 82% 31%", "--ring": "192 82% 31%"},
        "dark": {"--primary": "189 94% 43%", "--ring": "189 94% 43%"},
    },
}

# Chainlit's English wording, where ours differs: accounts are user names, not e-mails.
WORDING = {
    ("auth", "login", "title"): "Sign in to AgenticAI Lab",
    ("auth", "login", "form", "email", "label"): "User name",
    ("auth", "login", "form", "email", "placeholder"): "your user name",
    ("auth", "login", "form", "email", "required"): "the user name is required",
    ("auth", "login", "errors", "credentialsSignin"):
        "Sign in failed: check your user name and password",
    ("chat", "input", "placeholder"): "Ask for a short, video, podcast or blog about…",
    ("chat", "watermark"): "Nothing is published before you approve it.",
}


def write_brand(root: Path) -> None:
    """Icon, logos, login picture and colours into ``public/``."""
    public = root / "public"
    public.mkdir(parents=True, exist_ok=True)
    (public / "favicon.svg").write_text(ICON, encoding="utf-8")
    (public / "logo_light.svg").write_text(_logo(DEEP), encoding="utf-8")
    (public / "logo_dark.svg").write_text(_logo("#f0fdfa"), encoding="utf-8")
    (public / "login.svg").write_text(LOGIN_PICTURE, encoding="utf-8")
    (public / "theme.json").write_text(json.dumps(THEME, indent=2) + "\n", encoding="utf-8")


def patch_translation(path: Path) -> None:
    """Apply WORDING to a Chainlit translation file, keeping every other string."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for keys, text in WORDING.items():
        node = data
        for key in keys[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
            if node is None:
                break
        if isinstance(node, dict) and keys[-1] in node:
            node[keys[-1]] = text
    path.write_text(json.dumps(data, indent=4, ensure_ascii=False), encoding="utf-8")
