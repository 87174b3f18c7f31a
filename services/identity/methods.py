"""Account → Sign-in methods: every way an account can sign in, when it was added and
last used, and the one rule about taking them away: the last remaining method stays.

A password, an emailed link (any account with an email address can have one), an
identity at Google, Apple or Facebook, a proven phone number, a passkey. The emailed
link goes with the address, so it is not removed here: changing the address is on the
profile page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peewee import fn

from models import Identity, Passkey, SignIn, User, locked
from services.errors import DomainError, NotFound
from services.validation import phone_for_display

LABELS = {
    "password": "Password",
    "link": "Email link",
    "google": "Google",
    "apple": "Apple",
    "facebook": "Facebook",
    "phone": "Phone number",
    "passkey": "Passkey",
}
REMOVABLE = ("password", "identity", "passkey")


class LastMethod(DomainError):
    code = "last_method"

    def __init__(self) -> None:
        super().__init__(
            "This is the only way left to sign in to your account. Add another way first."
        )


@dataclass(frozen=True)
class Method:
    kind: str  # a key of LABELS
    id: int | None  # the identity's or passkey's; None for the password and the email link
    detail: str  # the address, number or device name
    added_at: datetime | None
    last_used_at: datetime | None

    @property
    def label(self) -> str:
        return LABELS[self.kind]

    @property
    def removable(self) -> bool:
        return self.kind != "link"


def _last_sign_ins(user_id: int) -> dict[str, datetime]:
    rows = (
        SignIn.select(SignIn.method, fn.MAX(SignIn.created_at).alias("last"))
        .where((SignIn.user == user_id) & SignIn.method.in_(("password", "link")))
        .group_by(SignIn.method)
        .tuples()
    )
    field = SignIn.created_at
    return {method: field.python_value(last) for method, last in rows}


def methods_of(user: User) -> list[Method]:
    """Every way ``user`` can sign in, oldest first within each kind."""
    used = _last_sign_ins(user.id)
    found: list[Method] = []
    if user.password_hash:
        added = user.password_set_at or user.created_at
        found.append(Method("password", None, "", added, used.get("password")))
    if user.email:
        found.append(Method("link", None, user.email, user.created_at, used.get("link")))
    for identity in user.identities.order_by(Identity.created_at, Identity.id):
        if identity.provider == "phone":
            detail = phone_for_display(identity.subject)
        else:
            detail = identity.email or ""
        found.append(
            Method(
                identity.provider,
                identity.id,
                detail,
                identity.created_at,
                identity.last_used_at,
            )
        )
    for passkey in user.passkeys.order_by(Passkey.created_at, Passkey.id):
        found.append(
            Method("passkey", passkey.id, passkey.name, passkey.created_at, passkey.last_used_at)
        )
    return found


def remove(user_id: int, kind: str, method_id: int | None = None) -> Method:
    """Take away one of the account's methods: its password (``kind="password"``), an
    identity or a passkey by id. Raises NotFound for a method that is not the account's
    and LastMethod when it is the only one left."""
    if kind not in REMOVABLE:
        raise NotFound("No such sign-in method.")
    # The account's row locked: two removals at once cannot both see the other's method
    # as the one that remains.
    with locked(User, user_id):
        methods = methods_of(User.get_by_id(user_id))
        wanted = "identity" if kind == "identity" else kind
        match = [
            m
            for m in methods
            if m.removable
            and (
                (wanted == "password" and m.kind == "password")
                or (wanted == "passkey" and m.kind == "passkey" and m.id == method_id)
                or (
                    wanted == "identity"
                    and m.kind not in ("password", "passkey", "link")
                    and m.id == method_id
                )
            )
        ]
        if not match:
            raise NotFound("No such sign-in method.")
        if len(methods) < 2:
            raise LastMethod()
        gone = match[0]
        if gone.kind == "password":
            User.update(password_hash=None, password_set_at=None).where(
                User.id == user_id
            ).execute()
        elif gone.kind == "passkey":
            Passkey.delete().where((Passkey.id == gone.id) & (Passkey.user == user_id)).execute()
        else:
            Identity.delete().where((Identity.id == gone.id) & (Identity.user == user_id)).execute()
    return gone
