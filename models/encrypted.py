"""A column whose text is kept encrypted (services/crypto.py): for secrets the app must
read back, such as a business's payment keys or calendar password."""

from __future__ import annotations

from peewee import TextField

from services import crypto


class EncryptedTextField(TextField):
    """Python sees the text; the database holds a Fernet token, a new one on every write.

    So the column cannot be searched or compared in SQL (``Model.field == "x"``
    encrypts "x" afresh and matches nothing); ``is_null()`` works. A token no key can
    read raises crypto.SecretUnreadable when the row is loaded. ``flask --app app
    rotate-secrets`` finds every such column through models.ALL_MODELS.
    """

    def db_value(self, value):
        if value is None:
            return None
        if not isinstance(value, str):
            raise TypeError(f"{self.name}: encrypt text (str), not {type(value).__name__}")
        return crypto.encrypt(value)

    def python_value(self, value):
        return None if value is None else crypto.decrypt(value)
