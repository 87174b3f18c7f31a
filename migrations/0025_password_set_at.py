"""When the account's current password was set (Account → Sign-in methods says when each
way in was added): NULL for one set with the account, which is the account's age."""


def up(migrator, db):
    # Plain SQL, as 0012 and 0020: the migrator would rebuild the table on SQLite.
    db.execute_sql("ALTER TABLE users ADD COLUMN password_set_at TIMESTAMPTZ")


def down(migrator, db):
    db.execute_sql("ALTER TABLE users DROP COLUMN password_set_at")
