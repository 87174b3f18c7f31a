"""When a new business finished (or left) its first set-up (services/workspace/setup.py):
until then its dashboard offers to carry on. Businesses that existed before have long
been set up: they count as done when they were made.
"""


def up(migrator, db):
    # Plain SQL, as 0012 and 0020: the migrator would rebuild the table on SQLite.
    db.execute_sql("ALTER TABLE organisation ADD COLUMN setup_done_at TIMESTAMPTZ NULL")
    db.execute_sql("UPDATE organisation SET setup_done_at = created_at")


def down(migrator, db):
    db.execute_sql("ALTER TABLE organisation DROP COLUMN setup_done_at")
