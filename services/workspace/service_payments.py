"""What a service asks to be paid online, as its owner sets it on the service form:
nothing (paid at the venue), a deposit (a fixed amount, or a share of the price), or
the full price; and the share a late cancellation gets back. services/payments/policy.py
reads what is saved here when somebody books.

Without a Stripe account (gateway.account_for) nothing is paid online, whatever a
service says: the form shows the rule but cannot change it, so a rule saved while the
business was connected waits, unchanged, until it connects again.
"""

from __future__ import annotations

from models import Service
from services.amounts import amount_text, parse_amount
from services.errors import Invalid
from services.formats import money
from services.validation import check_all

# The form's choices, in its order; "deposit_amount" and "deposit_percent" are both
# payment_mode "deposit" (which of deposit_cents or deposit_percent is set says which).
CHOICES = {
    "none": "Pay at the venue",
    "deposit_amount": "Deposit: a fixed amount",
    "deposit_percent": "Deposit: a share of the price",
    "full": "Full prepayment",
}
MODES = {"none": "none", "deposit_amount": "deposit", "deposit_percent": "deposit", "full": "full"}
OFF = "Online payment is off: connect Stripe in Settings first."
DEPOSIT_LABEL = "Deposit"
LABELS = {  # for the audit log's list of changes
    "payment_mode": "Payment",
    "deposit_cents": DEPOSIT_LABEL,
    "deposit_percent": "Deposit (%)",
    "late_cancel_refund_percent": "Late cancellation refund (%)",
}


def choice_of(service: Service | None) -> str:
    """The form's choice for what ``service`` has saved ("none" for a new one)."""
    if service is None or service.payment_mode == "none":
        return "none"
    if service.payment_mode == "full":
        return "full"
    return "deposit_amount" if service.deposit_cents else "deposit_percent"


def draft_values(service: Service | None) -> dict[str, str]:
    """The form's starting values for ``service``'s payment rule (a new one's: none)."""
    if service is None:
        return {"payment": "none", "deposit_amount": "", "deposit_percent": "", "late_refund": "0"}
    return {
        "payment": choice_of(service),
        "deposit_amount": amount_text(service.deposit_cents) if service.deposit_cents else "",
        "deposit_percent": str(service.deposit_percent or ""),
        "late_refund": str(service.late_cancel_refund_percent),
    }


def clean(draft, current: Service | None, *, price: int | None, online: bool) -> dict:
    """The Service fields for the rule in ``draft`` (a ServiceDraft), or Invalid naming
    each field that is wrong. ``price`` is the price typed (None when it is itself
    wrong); ``online``: the business can take payments. A blank choice keeps the
    service's rule; without ``online`` the rule can't be changed at all."""
    before = choice_of(current)
    chosen = (draft.payment or "").strip() or before
    if not online:
        if chosen != before:
            raise Invalid({"payment": OFF})
        return {}
    if chosen not in CHOICES:
        raise Invalid({"payment": "Choose how it is paid."})
    deposit_cents, deposit_percent, late = check_all(
        lambda: _deposit(draft.deposit_amount, price) if chosen == "deposit_amount" else None,
        lambda: (
            _percent(draft.deposit_percent, "deposit_percent", 1)
            if chosen == "deposit_percent"
            else None
        ),
        lambda: _percent(draft.late_refund, "late_refund", 0, blank=0),
    )
    if MODES[chosen] != "none" and price == 0:
        raise Invalid(
            {"payment": "A free service has nothing to pay online: choose “Pay at the venue”."}
        )
    return {
        "payment_mode": MODES[chosen],
        "deposit_cents": deposit_cents,
        "deposit_percent": deposit_percent,
        "late_cancel_refund_percent": late,
    }


def _deposit(value: str | None, price: int | None) -> int:
    cents = parse_amount(
        value, "deposit_amount", what="deposit", blank="Enter the deposit, like 20 or 20.50."
    )
    if cents <= 0:
        raise Invalid({"deposit_amount": "Make the deposit more than 0."})
    if price is not None and cents > price:
        raise Invalid(
            {"deposit_amount": f"Make the deposit at most the price ({amount_text(price)})."}
        )
    return cents


def _percent(value: str | None, field: str, low: int, *, blank: int | None = None) -> int:
    text = (value or "").strip().removesuffix("%").strip()
    if not text and blank is not None:
        return blank
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= 100:
        raise Invalid({field: f"Give a whole number from {low} to 100."})
    return int(text)


def summary(service: Service, currency: str) -> str:
    """The rule in a few words, for the list of services; empty when paid at the venue."""
    choice = choice_of(service)
    if choice == "deposit_amount":
        return f"{money(service.deposit_cents, currency)} deposit online"
    if choice == "deposit_percent":
        return f"{service.deposit_percent}% deposit online"
    if choice == "full":
        return "Paid online in full"
    return ""
