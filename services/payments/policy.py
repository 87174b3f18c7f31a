"""What a service asks online, and what goes back when a paid booking is cancelled.

The one place for these rules; pages, the API and the refunds all read them here.
"""

from __future__ import annotations

from dataclasses import dataclass

from models import Service


@dataclass(frozen=True)
class Due:
    kind: str  # "deposit" or "full"
    amount_cents: int


def due_online(service: Service) -> Due | None:
    """What booking ``service`` online asks to be paid now, or None (pay at the venue).
    A deposit is never more than the price; a free service asks nothing."""
    if service.payment_mode == "full" and service.price_cents > 0:
        return Due("full", service.price_cents)
    if service.payment_mode == "deposit" and service.price_cents > 0:
        share = service.price_cents * (service.deposit_percent or 0) // 100
        cents = min(service.deposit_cents or share, service.price_cents)
        if cents > 0:
            return Due("deposit", cents)
    return None


def refund_on_cancel(
    paid_cents: int, service: Service, *, by_business: bool, inside_window: bool
) -> int:
    """Of ``paid_cents`` kept so far, what goes back when the booking is cancelled:
    all of it when the business cancels or the customer cancels in time; inside the
    cancellation window, the service's late-cancellation share (0: all of it is kept)."""
    if by_business or not inside_window:
        return paid_cents
    return paid_cents * service.late_cancel_refund_percent // 100


def describe(service: Service, money) -> str:
    """The policy in a sentence for the customer, before they confirm. ``money`` formats
    an amount in the business's currency."""
    due = due_online(service)
    if due is None:
        return ""
    what = "The deposit" if due.kind == "deposit" else "The payment"
    hours = service.cancellation_window_hours
    late = service.late_cancel_refund_percent
    kept = "is kept" if late == 0 else f"is refunded at {late}%"
    return (
        f"{what} of {money(due.amount_cents)} is refunded in full if you cancel at least"
        f" {hours} hours before; after that it {kept}. If the business cancels, you get it"
        " all back."
    )
