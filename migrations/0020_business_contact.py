"""How customers reach a business (services/contact.py): its postal address (several
lines), phone number (E.164), email address, website (an http or https address) and a
short "how to find us". Empty text when not given: nothing is shown for it.

The lengths and the website's scheme are checked here too, so that no other way in can
put a javascript: link on a booking page.
"""

COLUMNS = {
    "address": "TEXT NOT NULL DEFAULT '' CHECK (length(address) <= 300)",
    "phone": "VARCHAR(32) NOT NULL DEFAULT '' CHECK (phone = '' OR substr(phone, 1, 1) = '+')",
    "email": "VARCHAR(254) NOT NULL DEFAULT '' CHECK (email = lower(email))",
    "website": "VARCHAR(300) NOT NULL DEFAULT ''"
    " CHECK (website = '' OR substr(website, 1, 7) = 'http://' OR substr(website, 1, 8) = 'https://')",
    "directions": "TEXT NOT NULL DEFAULT '' CHECK (length(directions) <= 500)",
}


def up(migrator, db):
    # Plain SQL, as 0012: the migrator would rebuild the table on SQLite.
    for column, kind in COLUMNS.items():
        db.execute_sql(f"ALTER TABLE organisation ADD COLUMN {column} {kind}")


def down(migrator, db):
    for column in reversed(COLUMNS):
        db.execute_sql(f"ALTER TABLE organisation DROP COLUMN {column}")
