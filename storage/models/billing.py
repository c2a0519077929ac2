"""Billing: each profile's Stripe customer and subscription, and the Stripe events processed.

The tier itself stays on ``profiles.subscription_tier`` (and ``organizations`` for the
workspaces a profile owns); these rows hold what Stripe calls it, so a subscription update
or cancellation finds its account, and each Stripe event is acted on once.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, UTCDateTime, _created, _updated


class BillingAccount(Base):
    __tablename__ = "billing_accounts"

    profile_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("profiles.id", ondelete="CASCADE"), primary_key=True)
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Stripe's subscription status: active, past_due, canceled, ...
    subscription_status: Mapped[str | None] = mapped_column(String(50))
    payment_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = _created()
    updated_at: Mapped[datetime] = _updated()


class StripeEvent(Base):
    """A Stripe webhook event already handled: Stripe retries and may send one twice."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)  # evt_...
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    processed_at: Mapped[datetime] = _created()
