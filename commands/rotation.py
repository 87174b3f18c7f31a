"""Re-encrypting every stored secret under the newest key (``flask --app app
rotate-secrets``), the middle step of replacing a key (services/crypto.py):

1. put the new key first in KAIROS_ENCRYPTION_KEYS, keep the old ones after it, deploy;
2. run rotate-secrets;
3. drop the old key, deploy again.

It can run while the app serves (each row is rewritten only if it still holds the token
that was read, so a secret saved meanwhile is never overwritten with an older one) and
as often as wanted (a secret already under the newest key is left as it is).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from models import EncryptedTextField, db
from services import crypto

BATCH = 500


@dataclass
class Rotation:
    rotated: int = 0  # re-encrypted under the newest key
    current: int = 0  # already were
    unreadable: list[str] = field(default_factory=list)  # "table.column id=…": no key reads it
    columns: list[str] = field(default_factory=list)  # "table.column", every one looked at


def encrypted_columns(models: Iterable) -> list[tuple[object, EncryptedTextField]]:
    """Every (model, field) whose field is an EncryptedTextField."""
    return [
        (model, f)
        for model in models
        for f in model._meta.sorted_fields
        if isinstance(f, EncryptedTextField)
    ]


def rotate_stored_secrets(models: Iterable) -> Rotation:
    """Re-encrypt every EncryptedTextField value of ``models`` under the newest key."""
    done = Rotation()
    for model, column in encrypted_columns(models):
        done.columns.append(f"{model._meta.table_name}.{column.column_name}")
        _rotate_column(model, column, done)
    return done


def _rotate_column(model, column: EncryptedTextField, done: Rotation) -> None:
    # Raw SQL: the field itself would decrypt what is read and encrypt what is written.
    key = model._meta.primary_key
    if key is None or not hasattr(key, "column_name"):
        raise ValueError(f"{model.__name__}: rotating needs a single-column primary key")
    table, pk, col = (
        _quoted(n) for n in (model._meta.table_name, key.column_name, column.column_name)
    )
    param = db.param
    read = (
        f"SELECT {pk}, {col} FROM {table} WHERE {col} IS NOT NULL AND {pk} > {param} "
        f"ORDER BY {pk} LIMIT {BATCH}"
    )
    write = f"UPDATE {table} SET {col} = {param} WHERE {pk} = {param} AND {col} = {param}"
    last = _lowest(key)
    while True:
        rows = db.execute_sql(read, (last,)).fetchall()
        if not rows:
            return
        with db.atomic():
            for row_id, token in rows:
                try:
                    fresh = crypto.rotate(token)
                except crypto.SecretUnreadable:
                    where = f"{model._meta.table_name}.{column.column_name} {key.name}={row_id}"
                    done.unreadable.append(where)
                    continue
                # Not rewritten if the app saved a new secret meanwhile (under the
                # newest key already, as everything the app writes is).
                if fresh != token and db.execute_sql(write, (fresh, row_id, token)).rowcount:
                    done.rotated += 1
                else:
                    done.current += 1
        last = rows[-1][0]


def _quoted(name: str) -> str:
    opening, closing = db.quote  # '""' on both databases
    return opening + name.replace(closing, closing * 2) + closing


def _lowest(key) -> object:
    """A value below every primary key of this kind."""
    return "" if key.field_type in ("VARCHAR", "TEXT") else -(2**63)
