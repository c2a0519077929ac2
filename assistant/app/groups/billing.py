"""/usage, /upgrade [TIER], /billing: the person's plan, what they used, and buying more.

``/upgrade`` answers with a Stripe Checkout link for the tier (the next one up when none is
named); ``/billing`` with the Customer Portal link (change the card, cancel). With billing
off (no ASSISTANT_STRIPE_API_KEY) both say so in one line.
"""

from __future__ import annotations

from assistant.app.billing import Billing
from assistant.app.command_registry import CommandContext, register
from assistant.app.events import OutEvent, say
from assistant.app.quotas import account_tier, format_usage, next_tier, usage_for


@register("usage", "/usage — your plan and what you used this month")
def usage(ctx: CommandContext, args: str) -> list[OutEvent]:
    profile_id = ctx.svc.repo.ensure_user(ctx.username)
    return [say(None, format_usage(usage_for(ctx.svc.db, profile_id, ctx.svc.settings)))]


@register("upgrade", "/upgrade [starter|pro|enterprise] — a link to subscribe to a plan")
def upgrade(ctx: CommandContext, args: str) -> list[OutEvent]:
    billing = Billing(ctx.svc.db, ctx.svc.settings)
    profile_id = ctx.svc.repo.ensure_user(ctx.username)
    current = account_tier(ctx.svc.db, profile_id).name
    tier = args.strip().lower() or next_tier(current)
    if tier is None:
        return [say(None, f"You are on {current}, the top plan already.")]
    if tier == current:
        return [say(None, f"You are on {tier} already: /billing manages it.")]
    url = billing.checkout(profile_id, tier)
    return [say(None, f"Subscribe to {tier} here (a Stripe page; your plan changes as soon "
                      f"as the payment goes through): {url}")]


@register("billing", "/billing — a link to manage your subscription (card, invoices, cancel)")
def billing_portal(ctx: CommandContext, args: str) -> list[OutEvent]:
    billing = Billing(ctx.svc.db, ctx.svc.settings)
    url = billing.portal(ctx.svc.repo.ensure_user(ctx.username))
    return [say(None, f"Manage your subscription here (a Stripe page): {url}")]
