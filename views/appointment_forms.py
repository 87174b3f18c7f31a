"""The customer's own appointment forms. What is allowed (the cancellation window) is
decided in services/booking/appointments.py."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField

REASON_LIMIT = 500


class CancelForm(FlaskForm):
    reason = TextAreaField("Reason (optional)", render_kw={"rows": 3, "maxlength": REASON_LIMIT})
