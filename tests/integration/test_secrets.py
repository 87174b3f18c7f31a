"""Secrets at rest in a real table: EncryptedTextField, ``flask --app app rotate-secrets``
re-encrypting every such column under the newest key, and the app refusing to start in
production without keys."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet
from peewee import CharField

import commands.rotation
import models
from config import ROOT
from models import BaseModel, EncryptedTextField, db
from services import crypto
from tests import factories

OLD, NEW, LOST = (Fernet.generate_key().decode() for _ in range(3))


class Vault(BaseModel):
    """A throwaway model with a secret column (nothing real is secret yet)."""

    label = CharField(max_length=20)
    secret = EncryptedTextField(null=True)

    class Meta:
        table_name = "test_vault"


@pytest.fixture
def vault(app, monkeypatch):
    """The table, in this test's database, among the models the command walks."""
    monkeypatch.setattr(crypto, "_keyring", None)
    monkeypatch.setattr(models, "ALL_MODELS", [*models.ALL_MODELS, Vault])
    monkeypatch.setattr(commands.rotation, "BATCH", 2)  # several batches from a few rows
    db.create_tables([Vault])
    yield Vault
    db.connect(reuse_if_open=True)
    db.drop_tables([Vault])


def stored(label: str) -> str | None:
    """The column as the database holds it."""
    cursor = db.execute_sql(
        f"SELECT secret FROM test_vault WHERE label = {db.param}", (label,)
    )  # not through the field, which would decrypt it
    return cursor.fetchone()[0]


def rotate_secrets(app):
    return app.test_cli_runner().invoke(args=["rotate-secrets"])


def test_the_column_holds_only_a_token(vault):
    crypto.configure([NEW])
    vault.create(label="stripe", secret="sk_live_abc123")

    assert vault.get(vault.label == "stripe").secret == "sk_live_abc123"
    assert "sk_live" not in stored("stripe")
    assert Fernet(NEW).decrypt(stored("stripe").encode()) == b"sk_live_abc123"


def test_rotate_secrets_moves_every_row_to_the_newest_key(app, vault):
    crypto.configure([OLD])
    secrets = {f"row{i}": f"password {i}" for i in range(5)}
    for label, secret in secrets.items():
        vault.create(label=label, secret=secret)
    vault.create(label="empty", secret=None)
    before = {label: stored(label) for label in secrets}

    crypto.configure([NEW, OLD])  # the new key first, deployed
    first = rotate_secrets(app)
    again = rotate_secrets(app)

    assert first.exit_code == 0, first.output
    assert "test_vault.secret" in first.output
    assert "re-encrypted: 5; already under the newest key: 0" in first.output
    assert "re-encrypted: 0; already under the newest key: 5" in again.output
    for label, secret in secrets.items():
        assert stored(label) != before[label]
        assert Fernet(NEW).decrypt(stored(label).encode()).decode() == secret
    assert stored("empty") is None
    crypto.configure([NEW])  # the old key dropped: everything still reads
    assert {v.label: v.secret for v in vault.select()} == secrets | {"empty": None}


def test_a_secret_no_key_reads_is_reported_and_the_rest_rotated(app, vault):
    crypto.configure([LOST])
    vault.create(label="lost", secret="from a dropped key")
    crypto.configure([OLD])
    vault.create(label="kept", secret="still readable")

    crypto.configure([NEW, OLD])
    result = rotate_secrets(app)

    assert result.exit_code == 1
    assert "1 secrets no key can read" in result.output
    assert "test_vault.secret id=1" in result.output
    assert Fernet(NEW).decrypt(stored("kept").encode()) == b"still readable"


def test_a_business_stripe_keys_are_encrypted_at_rest_and_rotated(app):
    crypto.configure([OLD])
    org = factories.make_org()
    org.stripe_secret_key, org.stripe_webhook_secret = "sk_live_owner", "whsec_owner"
    org.save()

    def raw(column: str) -> str:
        sql = f"SELECT {column} FROM organisation WHERE id = {org.id}"
        return db.execute_sql(sql).fetchone()[0]

    assert "sk_live" not in raw("stripe_secret_key")
    crypto.configure([NEW, OLD])
    result = rotate_secrets(app)

    assert result.exit_code == 0, result.output
    assert "organisation.stripe_secret_key" in result.output
    assert Fernet(NEW).decrypt(raw("stripe_secret_key").encode()) == b"sk_live_owner"
    assert Fernet(NEW).decrypt(raw("stripe_webhook_secret").encode()) == b"whsec_owner"


# Starting ---------------------------------------------------------------------------

START = "from app import create_app; create_app(); print('started')"


def start(tmp_path, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KAIROS_")}
    environ |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'k.db'}", "SECRET_KEY": "s"} | env
    return subprocess.run(
        [sys.executable, "-c", START],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_keys(tmp_path):
    refused = start(tmp_path, KAIROS_ENV="production")
    malformed = start(tmp_path, KAIROS_ENV="production", KAIROS_ENCRYPTION_KEYS="hunter2")
    started = start(tmp_path, KAIROS_ENV="production", KAIROS_ENCRYPTION_KEYS=f"{NEW},{OLD}")

    assert refused.returncode != 0
    assert "KAIROS_ENCRYPTION_KEYS must be set outside development" in refused.stderr
    assert malformed.returncode != 0
    assert "32 random bytes" in malformed.stderr
    assert "hunter2" not in malformed.stderr
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == "started"
