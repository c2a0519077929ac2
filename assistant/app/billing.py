"""Stripe billing: Checkout to subscribe to a tier, the Customer Portal, Stripe's webhook.

- :meth:`Billing.checkout`: a Checkout Session (mode ``subscription``) for the tier's price
  (``ASSISTANT_STRIPE_PRICE_<TIER>``), ``client_reference_id`` = the profile id, the tier in
  its metadata; the person pays on Stripe's page, and Stripe tells us by webhook.
- :meth:`Billing.portal`: a Customer Portal session (change card, cancel) for a profile that
  has subscribed.
- :meth:`Billing.handle_webhook`: the body Stripe POSTs, verified with
  ``stripe.Webhook.construct_event`` and ``ASSISTANT_STRIPE_WEBHOOK_SECRET`` (a forged or
  stale signature is :class:`BadSignature` and changes nothing), then
  ``checkout.session.completed`` (the tier starts), ``customer.subscription.updated`` (the
  tier follows the subscription's price; canceled or unpaid drops to free),
  ``customer.subscription.deleted`` (back to free) and ``invoice.payment_failed`` (marked
  past due; Stripe's retries and subscription events decide the rest). Each event id is
  recorded in ``stripe_events`` in the same transaction as its effect, so Stripe's retries
  and duplicates act once.

Billing is off until ``ASSISTANT_STRIPE_API_KEY`` is set: each call then says so in one line.
A Stripe that cannot be reached is :class:`BillingUnavailable`, one line, no key in it.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy import exc, select, update

from assistant.app.quotas import load_tiers
from assistant.config import Settings
from assistant.errors import AssistantError, ConfigError, InputError
from storage.db import Database
from storage.models import BillingAccount, Organization, Profile, StripeEvent

log = logging.getLogger(__name__)

_KEYS = re.compile(r"\b(?:sk|rk|pk)_(?:test|live)_[A-Za-z0-9*]+")

HANDLED = ("checkout.session.completed", "customer.subscription.updated",
           "customer.subscription.deleted", "invoice.payment_failed")
LAPSED = ("canceled", "unpaid", "incomplete_expired")  # a subscription that no longer pays
LIVE = ("active", "trialing", "past_due")  # a subscription that still stands
OFF = ("billing is off here: no Stripe key is configured (ASSISTANT_STRIPE_API_KEY); "
       "every feature of this server is available without a plan")


class BillingOff(ConfigError):
    """No Stripe key: nothing to buy here."""


class BillingUnavailable(AssistantError):
    """Stripe is configured but did not answer, or refused the request."""


class BadSignature(InputError):
    """A Stripe webhook body whose signature is missing, forged or too old."""


@dataclass(frozen=True)
class WebhookResult:
    event_id: str
    type: str
    handled: bool  # False: a type we do not act on, or an event already processed
    duplicate: bool = False


class Billing:
    def __init__(self, db: Database, settings: Settings) -> None:
        self.db, self.settings = db, settings

    @property
    def enabled(self) -> bool:
        return self.settings.stripe_api_key is not None

    def _key(self) -> str:
        if self.settings.stripe_api_key is None:
            raise BillingOff(OFF)
        return self.settings.stripe_api_key.get_secret_value()

    def _return_url(self) -> str:
        base = (self.settings.billing_return_url or self.settings.public_base_url
                or f"http://{self.settings.chat_host}:{self.settings.chat_port}")
        return base.rstrip("/")

    def price_of(self, tier: str) -> str:
        if tier not in load_tiers():
            raise InputError(f"unknown plan {tier!r}: choose one of "
                             f"{', '.join(t for t in load_tiers() if t != 'free')}")
        price = getattr(self.settings, f"stripe_price_{tier}", None)
        if not price:
            raise InputError(f"the {tier} plan is not sold here (no "
                             f"ASSISTANT_STRIPE_PRICE_{tier.upper()} is configured)")
        return str(price)

    def _tier_of_price(self, price_id: str | None) -> str | None:
        for tier in load_tiers():
            if price_id and getattr(self.settings, f"stripe_price_{tier}", None) == price_id:
                return tier
        return None

    # --- the links --------------------------------------------------------------------------

    def checkout(self, profile_id: str, tier: str) -> str:
        """The URL of a new Checkout Session that subscribes the profile to ``tier``."""
        key = self._key()
        price = self.price_of(tier)
        account = self._account(profile_id)
        if account is not None and account.stripe_subscription_id and \
                account.subscription_status in LIVE:
            # a second Checkout would start a second subscription: plans change in the portal
            raise InputError("you have a subscription already: /billing (or POST "
                             "/api/v1/billing/portal) changes its plan or cancels it")
        params: dict[str, Any] = {
            "mode": "subscription",
            "line_items": [{"price": price, "quantity": 1}],
            "client_reference_id": profile_id,
            "metadata": {"tier": tier, "profile_id": profile_id},
            "subscription_data": {"metadata": {"tier": tier, "profile_id": profile_id}},
            "success_url": f"{self._return_url()}/?billing=success",
            "cancel_url": f"{self._return_url()}/?billing=cancelled",
        }
        if account is not None and account.stripe_customer_id:
            params["customer"] = account.stripe_customer_id
        session = self._call(stripe.checkout.Session.create, api_key=key, **params)
        return str(session["url"])

    def portal(self, profile_id: str) -> str:
        """The URL of a Customer Portal session for the profile's Stripe customer."""
        key = self._key()
        account = self._account(profile_id)
        if account is None or not account.stripe_customer_id:
            raise InputError("you have no subscription yet: /upgrade TIER starts one")
        session = self._call(stripe.billing_portal.Session.create, api_key=key,
                             customer=account.stripe_customer_id,
                             return_url=f"{self._return_url()}/")
        return str(session["url"])

    @staticmethod
    def _call(create: Any, **params: Any) -> Any:
        try:
            return create(**params)
        except stripe.APIConnectionError:
            log.warning("Stripe could not be reached")
            raise BillingUnavailable("Stripe did not create the session: it cannot be "
                                     "reached from here; try again in a minute") from None
        except stripe.StripeError as err:
            # Stripe's own words about the request: first line, any key in it masked
            said = str(getattr(err, "user_message", None) or type(err).__name__)
            detail = _KEYS.sub("sk_***", said.strip().splitlines()[0] if said.strip() else "")
            log.warning("Stripe refused a request: %s: %s", type(err).__name__, detail)
            raise BillingUnavailable(f"Stripe did not create the session: {detail[:200]}"
                                     ) from None

    def _account(self, profile_id: str) -> BillingAccount | None:
        with self.db.session() as s:
            return s.get(BillingAccount, uuid.UUID(profile_id))

    # --- Stripe's webhook -------------------------------------------------------------------

    def handle_webhook(self, payload: bytes, signature: str | None) -> WebhookResult:
        """Verify and act on one Stripe event (see the module docstring)."""
        if self.settings.stripe_webhook_secret is None:
            raise BillingOff("Stripe webhooks are off here: ASSISTANT_STRIPE_WEBHOOK_SECRET "
                             "is not configured")
        secret = self.settings.stripe_webhook_secret.get_secret_value()
        try:
            event = stripe.Webhook.construct_event(payload, signature or "", secret)
        except stripe.SignatureVerificationError:
            raise BadSignature("the Stripe signature does not verify (forged, or older than "
                               "five minutes)") from None
        except ValueError:
            raise BadSignature("the body is not a Stripe event") from None
        # verified: read it as the plain JSON it is (a StripeObject's "items" is a method)
        body = json.loads(payload)
        event_id, kind = str(event["id"]), str(body.get("type") or "")
        obj = (body.get("data") or {}).get("object") or {}
        try:
            with self.db.session() as s:
                if s.get(StripeEvent, event_id) is not None:
                    return WebhookResult(event_id, kind, False, duplicate=True)
                s.add(StripeEvent(id=event_id, type=kind))
                s.flush()  # a second process with the same event fails here, before acting
                handled = kind in HANDLED and self._apply(s, kind, obj)
        except exc.IntegrityError:
            return WebhookResult(event_id, kind, False, duplicate=True)
        log.info("Stripe event %s (%s): %s", event_id, kind, "applied" if handled else "noted")
        return WebhookResult(event_id, kind, handled)

    def _apply(self, s: Any, kind: str, obj: Any) -> bool:
        if kind == "checkout.session.completed":
            return self._checkout_completed(s, obj)
        account = self._account_for(s, obj)
        if account is None:
            log.warning("Stripe %s for a customer we do not know", kind)
            return False
        now = datetime.now(UTC)
        if kind == "invoice.payment_failed":
            account.subscription_status, account.payment_failed_at = "past_due", now
            return True
        status = str(obj.get("status") or "")
        account.subscription_status = "canceled" if kind.endswith(".deleted") else status
        if kind.endswith(".deleted") or status in LAPSED:
            _set_tier(s, account.profile_id, "free")
            account.stripe_subscription_id = None
            return True
        items = (obj.get("items") or {}).get("data") or []
        price = (items[0].get("price") or {}).get("id") if items else None
        tier = self._tier_of_price(price)
        if tier is not None:
            account.stripe_subscription_id = str(obj.get("id") or "") or None
            _set_tier(s, account.profile_id, tier)
        return True

    def _checkout_completed(self, s: Any, session: Any) -> bool:
        reference = session.get("client_reference_id")
        tier = (session.get("metadata") or {}).get("tier")
        try:
            profile_id = uuid.UUID(str(reference))
        except ValueError:
            log.warning("a Checkout Session without a profile reference was completed")
            return False
        if s.get(Profile, profile_id) is None or tier not in load_tiers():
            log.warning("a completed Checkout Session names no known profile or tier")
            return False
        account = s.get(BillingAccount, profile_id)
        if account is None:
            account = BillingAccount(profile_id=profile_id)
            s.add(account)
        account.stripe_customer_id = session.get("customer") or account.stripe_customer_id
        account.stripe_subscription_id = (session.get("subscription")
                                          or account.stripe_subscription_id)
        account.subscription_status = "active"
        account.payment_failed_at = None
        _set_tier(s, profile_id, str(tier))
        return True

    @staticmethod
    def _account_for(s: Any, obj: Any) -> BillingAccount | None:
        customer = obj.get("customer")
        if not customer:
            return None
        found: BillingAccount | None = s.scalar(
            select(BillingAccount).where(BillingAccount.stripe_customer_id == str(customer)))
        return found


def _set_tier(s: Any, profile_id: uuid.UUID, tier: str) -> None:
    """The profile's tier, and that of the workspaces it owns (they are on its plan)."""
    s.execute(update(Profile).where(Profile.id == profile_id).values(subscription_tier=tier))
    s.execute(update(Organization).where(Organization.owner_id == profile_id)
              .values(subscription_tier=tier))
