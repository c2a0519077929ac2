"""One Settings object for the whole assistant, read once and passed in.

Every backend choice lives here so that switching from the embedded defaults
(no server, no key, no network) to production services is configuration only.
Environment variables use the prefix ``ASSISTANT_``; a ``.env`` file is read too.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LLMProvider = Literal["embedded", "ollama", "openai", "anthropic"]
WriterMode = Literal["auto", "grounded", "generative"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ASSISTANT_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # --- where things live -------------------------------------------------------
    data_dir: Path = Field(Path("./data"), description="Root of every file the assistant keeps.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL; default: SQLite file <data_dir>/assistant.db."
    )
    checkpoint_url: str | None = Field(
        None,
        description="sqlite:///path or postgresql://...; default: the database URL when it is "
        "PostgreSQL, else SQLite <data_dir>/checkpoints.sqlite.",
    )
    log_json: bool = Field(False, description="Structured JSON log lines (production).")
    log_level: str = "WARNING"
    metrics_port: int | None = Field(None, description="Serve Prometheus /metrics on this port.")

    # --- language model ----------------------------------------------------------
    llm_provider: LLMProvider = "embedded"
    llm_model: str | None = Field(
        None,
        description="Model name (ollama: llama3.1:8b, openai: gpt-4o-mini, ...) or, for the "
        "embedded provider, a catalog name (qwen2.5-coder-1.5b, smollm2-135m: "
        "`python -m assistant.llm.catalog list`) or a path to a GGUF file (default: the "
        "catalog's DEFAULT_MODEL).",
    )
    llm_base_url: str | None = Field(None, description="Server URL for ollama / openai-compatible.")
    llm_api_key: SecretStr | None = None
    llm_temperature: float = 0.2
    llm_max_tokens: int = 1024
    # 1, not 2 (measured, benchmarks/llm_speed.py): llama.cpp's threads meet at a barrier in
    # every layer, so a second thread pays only on an idle core. Cores here are rarely idle
    # (job_concurrency runs a job per CPU; renders, TTS and other tenants share them): on a
    # loaded 2-core machine 2 threads decoded Qwen2.5-1.5B at 0.5 tok/s and burnt 3x the CPU
    # where 1 thread held 3.5-4.8 tok/s at the same CPU cost busy or not.
    llm_threads: int = Field(1, description="CPU threads for the embedded model.")
    llm_context: int = Field(4096, description="Context window for the embedded model.")
    llm_timeout_s: float = 120.0
    llm_structured: Literal["auto", "json_schema", "json_object", "prompt"] = Field(
        "auto",
        description="How an openai-compatible server constrains JSON: json_schema (OpenAI, "
        "vLLM), json_object (llama.cpp server: json_object + schema), prompt (no constraint).",
    )
    structured_retries: int = Field(2, description="Repair attempts after invalid model output.")
    writer_mode: WriterMode = Field(
        "auto",
        description="grounded: compose from source sentences, the model writes title/hook/glue "
        "(right for tiny models); generative: the model writes everything from the sources; "
        "auto: grounded for the embedded model, generative otherwise.",
    )

    # --- knowledge base ------------------------------------------------------------
    qdrant_url: str | None = Field(None, description="Qdrant server; default: local mode on disk.")
    qdrant_collection: str = "knowledge"
    seed_sample_kb: bool = Field(
        True, description="Load the bundled sample pages when the knowledge base is empty."
    )
    research_top_k: int = 12
    research_min_score: float = 0.25

    # --- research (assistant/tools/research) -----------------------------------------
    research_providers: str = Field(
        "kb,encyclopedia",
        description="Comma list of research providers, in priority order: kb, encyclopedia "
        "(offline), wikipedia, arxiv, searxng, ddg, serper. Online set: "
        "kb,encyclopedia,wikipedia,searxng.")
    encyclopedia_dir: Path | None = Field(
        None, description="Where the offline encyclopedia's index is kept; default: the one "
        "built at install (<sys.prefix>/share/agenticai-lab/encyclopedia), else "
        "<data_dir>/encyclopedia, built on first use.")
    wikipedia_url: str = Field(
        "https://{lang}.wikipedia.org",
        description="MediaWiki base URL; {lang} becomes the brief's language.")
    arxiv_url: str = Field(
        "http://export.arxiv.org/api/query", description="arXiv Atom API endpoint.")
    searxng_url: str = Field(
        "", description="A SearXNG instance (GET /search?format=json); empty: not configured.")
    serper_api_key: str = Field(
        "", description="Serper (Google search API) key; empty: not configured. A secret: "
        "never logged.", repr=False)
    serper_url: str = Field("https://google.serper.dev", description="Serper API base URL.")
    fetch_allow_private: bool = Field(
        False, description="Let page fetching reach private, loopback and link-local "
        "addresses (a self-hosted SearXNG's results, tests).")
    fetch_timeout_s: float = Field(10.0, description="Timeout of one research HTTP request.")
    fetch_max_bytes: int = Field(
        2_000_000, description="Largest page research reads; bigger ones are refused.")
    research_user_agent: str = Field(
        "AgenticAI-Lab/0.1 (+https://github.com/agenticai-lab; research bot)",
        description="User-Agent of every research request (Wikipedia's policy asks for one "
        "that says who we are).")

    # --- media ------------------------------------------------------------------------
    tts_engine: str = Field("piper", description="piper (embedded) | espeak | xtts | kokoro")
    tts_voice: str | None = None
    tts_rate: float = Field(1.0, description="Speaking rate: 1.0 normal, 1.2 faster.")
    asr_model: str | None = Field(
        None, description="faster-whisper model dir or name (default: packaged tiny.en)."
    )
    image_generator: str = Field("designer", description="designer (Pillow) | diffusers")
    image_model: str | None = Field(None, description="diffusers model id or local dir.")
    brand_font: Path | None = Field(
        None, description="TTF/OTF font for scene cards and thumbnails; default: DejaVu Sans Bold.")
    brand_logo: Path | None = Field(
        None, description="Logo image (PNG/JPEG) placed on scene cards and thumbnails.")
    caption_style: Literal["classic", "boxed", "karaoke"] = "karaoke"
    short_preset: str = Field("youtube_shorts", description="youtube_shorts | tiktok")
    video_preset: str = "youtube"
    podcast_preset: str = "podcast"
    max_wer: float = Field(0.25, description="QA: highest voiceover word error rate accepted.")

    # --- pipeline ---------------------------------------------------------------------
    max_qa_rounds: int = Field(2, description="QA -> write loops before a human decides.")
    brand_rules_path: Path | None = Field(
        None, description="YAML brand rules; default: the bundled assistant/brand_rules.yaml."
    )
    publish_to: str = Field(
        "outbox", validation_alias=AliasChoices("ASSISTANT_PUBLISH_TO", "ASSISTANT_PUBLISHER",
                                                "publish_to", "publisher"),
        description="Comma list of platforms approved content goes to: outbox, wordpress, "
        "telegram, discord, youtube, tiktok (a job's own choice, `--to`, wins). The old name "
        "ASSISTANT_PUBLISHER is still read.")
    default_user: str = "local"
    cli_admin: bool = Field(False, description="`assistant make --user X` may act as X here "
                            "(otherwise only root or the data dir's owner may).")

    # --- publishing accounts (assistant/tools/publishing; a connected account wins) -------
    secret_key: SecretStr | None = Field(
        None, description="Encrypts connected accounts' tokens at rest (Fernet key derived "
        "from it); unset: tokens cannot be stored.")
    wordpress_url: str = Field("", description="WordPress site, e.g. https://blog.example.com.")
    wordpress_user: str = ""
    wordpress_app_password: SecretStr | None = Field(
        None, description="An application password (Users > Profile), not the login password.")
    wordpress_categories: str = Field(
        "", description="Comma list of category names new posts go in (created when missing).")
    wordpress_status: Literal["draft", "publish"] = Field(
        "publish", description="Status of new posts (a publish_at makes them 'future').")
    telegram_channel: str = Field(
        "", description="@channel (or -100... id) the bot (ASSISTANT_TELEGRAM_TOKEN) posts to; "
        "the bot must be the channel's admin.")
    telegram_api_url: str = Field("https://api.telegram.org", description="Bot API base URL.")
    discord_webhook_url: SecretStr | None = Field(
        None, description="A channel webhook (Server Settings > Integrations); its URL is a "
        "secret: whoever has it can post.")
    publish_timeout_s: float = Field(60.0, description="Timeout of one publishing request.")
    publish_allow_private: bool = Field(
        False, description="Let /connect take a WordPress site or webhook on a private, "
        "loopback or link-local address (a self-hosted site on the LAN, tests); off, such "
        "URLs are refused (SSRF).")

    # --- production services -------------------------------------------------------------
    redis_url: str | None = Field(
        None, description="redis://host:6379/0: progress pub/sub, rate limits, research cache, "
        "and the task broker unless broker_url says otherwise.")
    broker_url: str | None = Field(
        None, description="Celery broker (redis://... or amqp://guest:guest@host:5672//); "
        "default: redis_url, else media tasks run in-process (memory transport).")
    worker_concurrency: int = Field(1, description="Tasks one worker process runs at once.")
    job_concurrency: int = Field(
        default_factory=lambda: os.cpu_count() or 2, ge=1,
        description="Jobs one app process drives at once (default: its CPUs); more wait "
        "their turn, so a busy pipeline cannot starve the chat. A job waiting for review, a "
        "media worker or a model server holds no slot.")
    task_retries: int = Field(3, description="Retries (with backoff) of a transient task error.")
    task_timeout_s: float = Field(1800.0, description="Longest a step waits for its task.")
    db_pool_size: int = Field(5, description="PostgreSQL connections kept per process.")
    db_max_overflow: int = Field(10, description="Extra PostgreSQL connections under load.")
    rate_limit_burst: int = Field(20, description="Messages a user may send at once.")
    rate_limit_per_minute: int = Field(60, description="Sustained messages per user per minute.")
    research_cache_ttl_s: int = Field(3600, description="How long research results are cached.")
    kb_uploads_per_hour: int = Field(20, ge=1, description="Knowledge-base files one person "
                                     "or workspace may add an hour.")
    kb_workspace_max_mb: float = Field(200.0, gt=0, description="Most a person's or a "
                                       "workspace's knowledge base may hold, in MB.")
    kb_file_max_mb: float = Field(25.0, gt=0, description="Largest knowledge-base file, in MB.")

    # --- schedule and analytics (assistant/tools/publishing/schedule.py, analytics.py) -----
    timezone: str = Field(
        "UTC", description="The person's timezone (IANA name, e.g. Europe/Paris): best hours, "
        "/schedule times and the weekly report are in it.")
    publish_schedule: Literal["now", "best", "cascade"] = Field(
        "now", description="now: publish once approved; best: each platform at its next best "
        "hour; cascade: the viral cascade (TikTok at its peak hour, YouTube +30 min, "
        "X/Telegram/Discord +1 h, the blog +2 h).")
    best_hours: str = Field(
        "", description="Best local hours per platform, overriding the defaults: "
        "'tiktok=19,21;youtube=17'.")
    scheduler_interval_s: float = Field(
        30.0, description="How often the scheduler looks for due publications.")
    analytics_interval_s: float = Field(
        6 * 3600.0, description="How often each publication's metrics are pulled.")
    weekly_report_at: str = Field(
        "mon 10:00", description="When each workspace's weekly report is sent (day and "
        "local time); empty: never.")
    recommendations: bool = Field(
        True, description="Offer what did best (format, length, style, hour) as defaults "
        "for the next brief; false: never.")
    recommend_min_points: int = Field(
        5, ge=1, description="Fewest publications with metrics a recommendation needs.")

    # --- chat channels -------------------------------------------------------------------
    chat_host: str = "127.0.0.1"
    chat_port: int = 8000
    chat_auth: Literal["password", "header"] = Field(
        "password", description="password: log in with a users-table account; header: trust "
        "the user name a reverse proxy puts in chat_auth_header.")
    chat_auth_header: str = "X-Forwarded-User"
    chat_secret: SecretStr | None = Field(
        None, description="Signs web sessions (Chainlit's auth secret); default: one made and "
        "kept in <data_dir>/secrets.json.")
    discord_token: SecretStr | None = None
    discord_reviewer_role: str = Field("reviewer", description="Guild role that may approve.")
    discord_upload_limit_mb: float = Field(10.0, description="Bigger results are sent as links.")
    telegram_token: SecretStr | None = None
    media_link_ttl: timedelta = Field(
        timedelta(days=7), description="How long a web chat's link to a file works (seconds, "
        "or ISO 8601 such as P7D).")
    public_base_url: str | None = Field(
        None, description="The web app's public address: a result too big for a chat is "
        "linked as its signed, expiring /media/... link (assistant/infra/media_links.py).")

    # --- YouTube and TikTok (assistant/tools/publishing/youtube.py, tiktok.py, oauth.py) ----
    # OAuth apps are the operator's own (Google Cloud console / TikTok for Developers); the
    # endpoint URLs are settings so tests point them at local stand-ins.
    youtube_client_id: str = Field("", description="Google OAuth client id (YouTube).")
    youtube_client_secret: SecretStr | None = None
    youtube_api_url: str = Field("https://youtube.googleapis.com/",
                                 description="YouTube Data API v3 root.")
    youtube_auth_url: str = "https://accounts.google.com/o/oauth2/v2/auth"
    youtube_token_url: str = "https://oauth2.googleapis.com/token"
    youtube_device_url: str = "https://oauth2.googleapis.com/device/code"
    youtube_privacy: Literal["private", "unlisted", "public"] = Field(
        "private", description="Unaudited API projects' uploads are forced private anyway.")
    youtube_made_for_kids: bool = Field(
        False, description="status.selfDeclaredMadeForKids, sent with every upload.")
    youtube_category_id: str = Field("27", description="Video category (27: Education).")
    youtube_chunk_kib: int = Field(8192, ge=256, description="Resumable upload chunk, KiB "
                                   "(a multiple of 256).")
    tiktok_client_key: str = Field("", description="TikTok for Developers client key.")
    tiktok_client_secret: SecretStr | None = None
    tiktok_api_url: str = "https://open.tiktokapis.com"
    tiktok_auth_url: str = "https://www.tiktok.com/v2/auth/authorize/"
    tiktok_mode: Literal["inbox", "direct"] = Field(
        "inbox", description="inbox: the person finishes the post in the app; direct: post.")
    tiktok_privacy: str = Field("SELF_ONLY", description="Direct posts' privacy_level; "
                                "unaudited apps may post SELF_ONLY only.")
    tiktok_chunk_mb: int = Field(10, ge=5, le=64, description="Upload chunk size, MB.")

    # --- tiers, billing (Stripe), outgoing webhooks ------------------------------------------
    quotas: bool | None = Field(
        None, description="Hold users to their tier's limits (assistant/app/tiers.yaml) in "
        "chat and the API; default: on when Stripe is configured (ASSISTANT_STRIPE_API_KEY).")
    upgrade_url: str | None = Field(
        None, description="A pricing page named in every quota refusal; without it the "
        "refusal names /upgrade and POST /api/v1/billing/checkout.")
    stripe_api_key: SecretStr | None = Field(
        None, description="Stripe secret key (sk_...); unset: billing is off.")
    stripe_webhook_secret: SecretStr | None = Field(
        None, description="Signing secret (whsec_...) of the Stripe webhook endpoint "
        "POST /api/v1/billing/stripe/webhook.")
    stripe_price_starter: str | None = Field(None, description="Stripe price id of starter.")
    stripe_price_pro: str | None = Field(None, description="Stripe price id of pro.")
    stripe_price_enterprise: str | None = Field(
        None, description="Stripe price id of enterprise.")
    billing_return_url: str | None = Field(
        None, description="Where Stripe Checkout and the Customer Portal send people back; "
        "default: ASSISTANT_PUBLIC_BASE_URL, else the chat server's address.")
    webhook_allow_private: bool = Field(
        False, description="Let outgoing webhooks reach private, loopback and link-local "
        "addresses (tests, self-hosted receivers); off, such URLs are refused (SSRF).")
    webhook_timeout_s: float = Field(10.0, description="Timeout of one webhook delivery.")
    webhook_max_attempts: int = Field(
        8, ge=1, description="Attempts per webhook delivery (exponential backoff between).")

    @field_validator("media_link_ttl", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        """A plain number of seconds ("604800") as well as ISO 8601 ("P7D")."""
        return int(value) if isinstance(value, str) and value.strip().isdigit() else value

    @property
    def publish_platforms(self) -> list[str]:
        """ASSISTANT_PUBLISH_TO as a list, in order, each once."""
        names = [n.strip().lower() for n in self.publish_to.split(",") if n.strip()]
        return list(dict.fromkeys(names)) or ["outbox"]

    @property
    def publisher(self) -> str:
        """The first platform published to (QA checks its limits as well as the format's)."""
        return self.publish_platforms[0]

    # --- derived paths ------------------------------------------------------------------
    @cached_property
    def resolved_data_dir(self) -> Path:
        return self.data_dir.expanduser().resolve()

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.resolved_data_dir / 'assistant.db'}"

    @property
    def checkpoint_path(self) -> Path:
        return self.resolved_data_dir / "checkpoints.sqlite"

    @property
    def artifacts_dir(self) -> Path:
        return self.resolved_data_dir / "artifacts"

    @property
    def outbox_dir(self) -> Path:
        return self.resolved_data_dir / "outbox"

    @property
    def work_dir(self) -> Path:
        """Scratch space for renders; everything kept is copied into the artifacts."""
        return self.resolved_data_dir / "work"

    @property
    def kb_dir(self) -> Path:
        return self.resolved_data_dir / "kb"

    @property
    def resolved_brand_rules(self) -> Path:
        return self.brand_rules_path or Path(__file__).parent / "brand_rules.yaml"

    @property
    def effective_writer_mode(self) -> Literal["grounded", "generative"]:
        if self.writer_mode == "auto":
            return "grounded" if self.llm_provider == "embedded" else "generative"
        return self.writer_mode
