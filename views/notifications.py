"""A person's notifications: what they receive, and the devices web push reaches."""

from __future__ import annotations

import contextlib

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_login import current_user, login_required

from services import formats, validation
from services.errors import DeviceTaken, Invalid, NotFound
from services.notifications import preferences, push
from views import forms
from views.account_forms import NotificationChoicesForm
from views.support import now, read_json_object

bp = Blueprint("notifications", __name__, url_prefix="/account")


def vapid_key() -> str:
    keys = current_app.extensions.get("kairos.vapid")
    if keys is None:
        keys = current_app.extensions["kairos.vapid"] = push.vapid(current_app.config["SETTINGS"])
    return keys.public_key


def push_offer() -> dict:
    """What a page offering "Notify me on this device" needs; nothing when the person
    turned push off."""
    if not preferences.NotificationPrefs.of(current_user.id).push:
        return {"offer_push": False}
    endpoints = [d.endpoint for d in push.devices(current_user.id)]
    return {"offer_push": True, "vapid_key": vapid_key(), "push_endpoints": endpoints}


def _page(form: NotificationChoicesForm, status: int = 200):
    devices = push.devices(current_user.id)
    html = render_template(
        "account/notifications.html",
        form=form,
        devices=devices,
        push_endpoints=[d.endpoint for d in devices],
        staff=preferences.is_staff(current_user.id),
        phone=validation.phone_for_display(current_user.phone),
        vapid_key=vapid_key(),
    )
    return html, status


@bp.get("/notifications")
@login_required
def settings():
    prefs = preferences.NotificationPrefs.of(current_user.id)
    return _page(NotificationChoicesForm(formdata=None, obj=prefs))


@bp.post("/notifications")
@login_required
def save():
    form = NotificationChoicesForm()
    if not form.validate():  # only the CSRF token can be wrong
        return _page(form, 422)
    chosen = {name: form[name].data for name in preferences.ALL_CHOICES}
    try:
        preferences.save(current_user, chosen)
    except Invalid as exc:
        forms.show_problems(form, exc)
        return _page(form, 422)
    return forms.done(url_for(".settings"), "Your notification choices are saved.")


@bp.post("/devices")
@login_required
def add_device():
    """The browser's PushSubscription, sent by static/js/push.js once permission is given."""
    body = read_json_object()  # a list or a number would have no .get
    settings = current_app.config["SETTINGS"]
    try:
        device = push.subscribe(
            current_user.id,
            body.get("subscription"),
            formats.device_label(request.user_agent.string),
            now(),
            allow_hosts=settings.push_allow_hosts,
        )
    except Invalid as exc:
        return jsonify(errors=exc.fields), 422
    except DeviceTaken as exc:
        return jsonify(errors={"subscription": exc.message}), 409
    preferences.set_timezone(current_user, body.get("timezone"))
    return jsonify(id=device.id, label=device.label), 201


@bp.post("/devices/<id:device_id>/delete")
@login_required
def remove_device(device_id: int):
    with contextlib.suppress(NotFound):  # already gone: another tab, or the push service
        push.remove(current_user.id, device_id)
    return forms.done(url_for(".settings"), "That device will no longer get notifications.")
