"""What a page needs to show a business's logo without reading the image itself: its
version (a hash of the file, the ``?v=`` of its address, which may be cached for a
year) and its size in pixels. Every page of a business's booking journey, its emails
and its manifest show the logo, so reading up to 256 KB for each of them is too much.

Logos uploaded before this migration get theirs here.
"""

COLUMNS = {
    "logo_version": "VARCHAR(20)",
    "logo_width": "INTEGER CHECK (logo_width IS NULL OR logo_width > 0)",
    "logo_height": "INTEGER CHECK (logo_height IS NULL OR logo_height > 0)",
}


def up(migrator, db):
    # Plain SQL, as 0012 and 0020: the migrator would rebuild the table on SQLite.
    for column, kind in COLUMNS.items():
        db.execute_sql(f"ALTER TABLE organisation ADD COLUMN {column} {kind}")
    from services.workspace.settings import etag_of, read_image

    p = db.param  # "?" on SQLite, "%s" on PostgreSQL
    rows = db.execute_sql("SELECT id, logo FROM organisation WHERE logo IS NOT NULL").fetchall()
    for org_id, logo in rows:
        data = bytes(logo)
        image = read_image(data)
        if image is None:  # not one we would accept now: no logo rather than a broken one
            sql, values = (
                f"UPDATE organisation SET logo = NULL, logo_type = NULL WHERE id = {p}",
                (),
            )
        else:
            sql = (
                f"UPDATE organisation SET logo_version = {p}, logo_width = {p}, logo_height = {p}"
                f" WHERE id = {p}"
            )
            values = (etag_of(data), image.width, image.height)
        db.execute_sql(sql, (*values, org_id))


def down(migrator, db):
    for column in reversed(COLUMNS):
        db.execute_sql(f"ALTER TABLE organisation DROP COLUMN {column}")
