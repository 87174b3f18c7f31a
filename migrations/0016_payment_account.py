"""Which Stripe account each online payment went through (services/payments/gateway.py
``Account.fingerprint``): a business may replace its keys with another account's, and a
refund or a cancellation must go to the account that holds the payment. Payments made
before this are taken to be the current account's (NULL)."""


def up(migrator, db):
    db.execute_sql("ALTER TABLE payment ADD COLUMN account VARCHAR(32)")


def down(migrator, db):
    from peewee import PostgresqlDatabase

    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE payment DROP COLUMN account")
    else:
        migrator.migrate(migrator.drop_column("payment", "account", legacy=True))
