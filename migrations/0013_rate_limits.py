"""Rate-limit counters, for when no Redis is configured (services/ratelimits): one row per
limit and key. Unlogged on PostgreSQL: counters are not worth a write-ahead log, and
losing them in a crash only forgives a few minutes of tries."""

from peewee import PostgresqlDatabase


def up(migrator, db):
    unlogged = "UNLOGGED " if isinstance(db, PostgresqlDatabase) else ""
    db.execute_sql(
        f"CREATE {unlogged}TABLE rate_limit "
        "(bucket VARCHAR(80) NOT NULL PRIMARY KEY, tat DOUBLE PRECISION NOT NULL,"
        " period DOUBLE PRECISION NOT NULL)"
    )


def down(migrator, db):
    db.execute_sql("DROP TABLE rate_limit")
