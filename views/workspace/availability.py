"""Availability: a provider's weekly hours, date overrides and time off.

A provider edits their own; the owner picks whose (``?provider=<id>``). Each form posts
to a route under the provider's id. A change that would leave bookings outside working
time answers 409 with the form as typed and those bookings, and asks to keep them or
cancel them with a message (services/workspace/orphans.py).
"""

from __future__ import annotations

import re
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    RadioField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import DateInput, TimeInput

from models import Provider
from services import access
from services.errors import Invalid, NotFound
from services.workspace import availability as hours
from services.workspace import availability_edits as edits
from services.workspace.orphans import CANCEL, KEEP, Decision, Edit, NeedsDecision, Outcome
from views.forms import done
from views.support import LARGEST_INT, now, parse_date
from views.web import page, wants_fragment
from views.workspace import bp, staff_only

DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BLANK_ROWS = 3  # an override's rows shown at least, so intervals can be added without JavaScript
TEMPLATE = "workspace/availability.html"


class IntervalForm(Form):
    """One interval: a row inside another form (so no CSRF token of its own)."""

    start = StringField("From", widget=TimeInput())
    end = StringField("To", widget=TimeInput())


class DecisionForm(FlaskForm):
    """What to do with bookings a change would leave outside working time."""

    decision = RadioField(
        "What should happen to these bookings?",
        choices={KEEP: "Keep these bookings", CANCEL: "Cancel them and tell the customers"},
        validate_choice=False,
    )
    message = TextAreaField(
        "Message to the customers",
        description="Needed when cancelling: each customer sees it with their cancelled booking.",
        render_kw={"rows": 3, "maxlength": 1000},
    )
    seen = HiddenField()  # the bookings shown, so a booking made meanwhile is asked about


class DayOpen(BooleanField):
    """A day's on/off switch. The page sends an empty value before the checkbox, so a
    day turned off says so; a post without the field leaves ``data`` None: the day is
    open when it has hours typed."""

    def process_formdata(self, valuelist):
        self.data = ("y" in valuelist) if valuelist else None


class WeekForm(DecisionForm):
    mon = FieldList(FormField(IntervalForm))
    tue = FieldList(FormField(IntervalForm))
    wed = FieldList(FormField(IntervalForm))
    thu = FieldList(FormField(IntervalForm))
    fri = FieldList(FormField(IntervalForm))
    sat = FieldList(FormField(IntervalForm))
    sun = FieldList(FormField(IntervalForm))
    mon_open = DayOpen(name="mon-open")
    tue_open = DayOpen(name="tue-open")
    wed_open = DayOpen(name="wed-open")
    thu_open = DayOpen(name="thu-open")
    fri_open = DayOpen(name="fri-open")
    sat_open = DayOpen(name="sat-open")
    sun_open = DayOpen(name="sun-open")
    edit = StringField()  # a button that changes the form rather than saving it


class OverrideForm(DecisionForm):
    day = StringField("Date", widget=DateInput())
    kind = RadioField(
        "On that date",
        choices={"closed": "Closed all day", "hours": "Different hours"},
        default="closed",
        validate_choice=False,
    )
    hours = FieldList(FormField(IntervalForm))


class TimeOffForm(DecisionForm):
    start_date = StringField("Starts on", widget=DateInput())
    start_time = StringField("Start time", widget=TimeInput())
    end_date = StringField("Ends on", widget=DateInput())
    end_time = StringField("End time", widget=TimeInput())
    all_day = BooleanField("Whole days (times are ignored)")
    reason = StringField("Reason (optional)", render_kw={"maxlength": 200})

    def typed(self) -> hours.TypedTimeOff:
        return hours.TypedTimeOff(
            self.start_date.data,
            self.start_time.data,
            self.end_date.data,
            self.end_time.data,
            self.all_day.data,
            self.reason.data,
        )


@bp.get("/availability")
@staff_only
def availability():
    chosen = request.args.get("provider")
    if chosen is None:
        visible = g.staff.visible_providers()
        return _page(visible[0] if visible else None)
    return _page(_provider(chosen))


@bp.post("/availability/<id:provider_id>/hours")
@staff_only
def save_hours(provider_id: int):
    """Save the week, or (a button that edits it: add a break, remove an interval, copy
    to the weekdays) show it again with that change, not saved yet."""
    provider, form = _provider(provider_id), WeekForm()
    typed = _typed_week(form)
    if form.edit.data:
        return _edit_week(provider, form, typed)
    week = {d: _rows(form[key]) if typed[d].open else [] for d, key in enumerate(DAY_KEYS)}
    opened = {d: f"{key}-open" for d, key in enumerate(DAY_KEYS) if typed[d].open}
    return _submit(
        provider,
        _padded_week(form),
        "hours",
        lambda edit: hours.save_week(provider, week, edit, opened=opened),
        "Weekly hours saved.",
    )


@bp.post("/availability/<id:provider_id>/overrides")
@staff_only
def add_override(provider_id: int):
    provider, form = _provider(provider_id), _padded(OverrideForm())
    closed = form.kind.data != "hours"
    return _submit(
        provider,
        form,
        "overrides",
        lambda edit: hours.add_override(provider, form.day.data, closed, _rows(form.hours), edit),
        "Date override saved.",
    )


@bp.post("/availability/<id:provider_id>/overrides/<day>/delete")
@staff_only
def delete_override(provider_id: int, day: str):
    provider, form = _provider(provider_id), DecisionForm()
    try:
        on = parse_date(day)
    except Invalid:
        raise NotFound("No such date override.") from None
    return _submit(
        provider,
        form,
        "overrides",
        lambda edit: hours.delete_override(provider, on, edit),
        "Date override removed.",
        pending=on,
    )


@bp.post("/availability/<id:provider_id>/time-off")
@staff_only
def add_time_off(provider_id: int):
    provider, form = _provider(provider_id), TimeOffForm()
    return _submit(
        provider,
        form,
        "time_off",
        lambda edit: hours.add_time_off(provider, form.typed(), edit),
        "Time off added.",
    )


@bp.post("/availability/<id:provider_id>/time-off/<id:time_off_id>/delete")
@staff_only
def delete_time_off(provider_id: int, time_off_id: int):
    provider = _provider(provider_id)
    hours.delete_time_off(provider, time_off_id, g.staff.user_id, now())
    return _saved(provider, "time_off", "Time off removed.")


@bp.get("/availability/<id:provider_id>/<path:action>")
@staff_only
def availability_form_address(provider_id: int, action: str):
    """A form's address opened directly (say, reloaded after a refused save): the page."""
    return redirect(_url(_provider(provider_id)), 303)


# Helpers ---------------------------------------------------------------------------


def _provider(value: int | str) -> Provider:
    """A provider the signed-in staff member may edit; anything else is not found."""
    text = str(value)
    if not text.isdigit() or int(text) > LARGEST_INT:
        raise NotFound("No such provider.")
    return access.provider_for(g.staff, int(text))


def _edit(form: DecisionForm) -> Edit:
    """Who is changing the hours, and what they chose for bookings the change orphans."""
    seen = frozenset(int(i) for i in (form.seen.data or "").split(",") if i.isdigit())
    decision = Decision(form.decision.data or None, form.message.data or "", seen)
    return Edit(g.staff.user_id, now(), decision, dispatch=g.dispatch)


def _submit(provider, form, section: str, save, saved: str, *, pending=None):
    """The change on this page: see run_change; saved, see _saved."""
    return run_change(
        form,
        save,
        refused=lambda status, orphans, changed: _page(
            provider,
            section,
            status,
            forms={section: form},
            orphans={section: orphans} if orphans else None,
            changed=changed,
            pending=pending,
        ),
        saved=lambda outcome: _saved(provider, section, said(saved, outcome)),
    )


def run_change(form: DecisionForm, save, *, refused, saved):
    """Run ``save`` with what was decided about orphaned bookings; ``saved(outcome)``
    answers. Bad input: ``refused(422, None, False)``, the form showing its problems.
    Bookings left outside working time and no (valid) decision about them:
    ``refused(409, bookings, changed)``, the form asking what to do with them (422 when
    the decision itself is incomplete: cancelling without a message). Used by this page
    and by time off added from the schedule, so both ask the same way."""
    try:
        outcome = save(_edit(form))
    except Invalid as exc:
        _show(form, exc.fields)
        return refused(422, None, False)
    except NeedsDecision as exc:
        _show(form, exc.problems)
        form.seen.data = ",".join(str(b.id) for b in exc.bookings)
        if exc.changed:
            form.decision.data = None  # a new list: the choice made about the old one is void
        return refused(422 if exc.problems else 409, exc.bookings, exc.changed)
    return saved(outcome)


def _saved(provider: Provider, section: str, message: str):
    """After a change: for htmx the section again, fresh, saying what was done (the rest
    of the page is as it was); otherwise back to the page, at that section."""
    if wants_fragment():
        return _page(provider, section, saved=message)
    return done(_url(provider, section.replace("_", "-")), message)


def said(saved: str, outcome: Outcome) -> str:
    """What was saved, and what became of the bookings it left outside working time."""

    def bookings(n: int) -> str:
        return f"{n} booking{'s' if n != 1 else ''}"

    if outcome.cancelled:
        return f"{saved} {bookings(outcome.cancelled)} cancelled, with your message."
    if outcome.kept:
        return f"{saved} {bookings(outcome.kept)} kept outside working hours."
    return saved


def _show(form: FlaskForm, problems: dict[str, str]) -> None:
    """Put each problem on the field of that name, nested rows included."""
    fields = dict(_named(form))
    for name, message in problems.items():
        if name in fields:
            fields[name].errors = [*fields[name].errors, message]
        else:
            form.form_errors.append(message)
    if problems.keys() & fields.keys():
        # A long form's marked field may be out of view: say so where the form starts.
        form.form_errors.append("Nothing was saved: please correct the fields marked below.")


def _named(form):
    for field in form:
        if isinstance(field, FieldList):
            for entry in field:
                yield from ((sub.name, sub) for sub in entry)
        else:
            yield field.name, field


def _rows(rows: FieldList) -> list[hours.TypedInterval]:
    return [hours.TypedInterval(e.name, e.form.start.data, e.form.end.data) for e in rows]


def _padded(form):
    """Every list of intervals with blank rows to type more into."""
    for field in form:
        if isinstance(field, FieldList):
            filled = sum(1 for e in field if e.form.start.data or e.form.end.data)
            while len(field) < max(BLANK_ROWS, filled + 1):
                field.append_entry()
    return form


def _saved_week(provider: Provider) -> list[edits.TypedDay]:
    saved = hours.weekly_hours(provider)
    return [
        edits.TypedDay(bool(saved[d]), tuple((f"{a:%H:%M}", f"{b:%H:%M}") for a, b in saved[d]))
        for d in range(7)
    ]


def _typed_week(form: WeekForm) -> list[edits.TypedDay]:
    """Each day as posted; a day whose switch was not sent is open when it has hours."""
    week = []
    for key in DAY_KEYS:
        rows = tuple((e.form.start.data or "", e.form.end.data or "") for e in form[key])
        switch = form[f"{key}_open"]
        if switch.data is None:
            switch.data = any(a.strip() or b.strip() for a, b in rows)
        week.append(edits.TypedDay(switch.data, rows))
    return week


_EDIT = re.compile(rf"(add|remove|copy)-({'|'.join(DAY_KEYS)})(?:-(\d{{1,3}}))?")


def _edit_week(provider: Provider, form: WeekForm, typed: list[edits.TypedDay]):
    try:
        edited, focus = _edited(typed, form.edit.data)
    except Invalid as exc:
        form.form_errors.extend(exc.fields.values())
        return _page(provider, "hours", 422, forms={"hours": _padded_week(form)})
    note = f"{edited.said}. Not saved yet."
    new = _week_form(edited.week)
    return _page(provider, "hours", forms={"hours": new}, note=note, focus=focus)


def _edited(week: list[edits.TypedDay], asked: str) -> tuple[edits.Edited, str]:
    """The week with the change a button asked for, and the id of what gets the focus."""
    found = _EDIT.fullmatch(asked)
    if not found or (found[1] == "remove") != (found[3] is not None):
        raise Invalid({"edit": "That change is not possible here."})
    kind, key, day = found[1], found[2], DAY_KEYS.index(found[2])
    if kind == "add":
        edited = edits.add_break(week, day)
        return edited, f"{key}-{edited.row}-start"
    if kind == "remove":
        return edits.remove_interval(week, day, int(found[3])), f"{key}-add"
    return edits.copy_to_weekdays(week, day), f"{key}-copy"


def _week_form(week: list[edits.TypedDay] | tuple[edits.TypedDay, ...]) -> WeekForm:
    """The form showing ``week``: each day's intervals, a closed one an empty one to
    type in when it is turned on."""
    data: dict = {}
    for key, day in zip(DAY_KEYS, week, strict=True):
        data[key] = [SimpleNamespace(start=a, end=b) for a, b in day.rows]
        data[f"{key}_open"] = day.open
    return _padded_week(WeekForm(formdata=None, data=data))


def _padded_week(form: WeekForm) -> WeekForm:
    for key in DAY_KEYS:
        if not form[key].entries:
            form[key].append_entry()
    return form


def _url(provider: Provider, anchor: str | None = None) -> str:
    org = g.staff.organisation
    return url_for("workspace.availability", slug=org.slug, provider=provider.id, _anchor=anchor)


def _page(
    provider,
    block=None,
    status=200,
    *,
    forms=None,
    orphans=None,
    changed=False,
    pending=None,
    saved=None,
    note=None,
    focus=None,
):
    """The page for ``provider`` (None: nobody to show), or one section of it for htmx.
    ``forms`` are the forms as posted, by section; ``pending`` is the date whose override
    is being deleted, when that needs a decision; ``note`` says what an edit not saved
    yet did, and ``focus`` is the id of the field or button to go on from."""
    org, forms = g.staff.organisation, forms or {}
    context = {"org": org, "staff": g.staff, "provider": provider, "choices": _choices(provider)}
    if provider is not None:
        today = now().astimezone(ZoneInfo(org.timezone)).date()
        blank_override = _padded(OverrideForm(formdata=None))
        context |= {
            "days": list(zip(DAY_KEYS, hours.WEEKDAYS, strict=True)),
            "week_form": forms.get("hours") or _week_form(_saved_week(provider)),
            "override_form": blank_override if pending else forms.get("overrides", blank_override),
            "delete_form": forms.get("overrides") if pending else None,
            "time_off_form": forms.get("time_off") or TimeOffForm(formdata=None),
            "overrides": hours.upcoming_overrides(provider, today),
            "time_off": hours.upcoming_time_off(provider, now()),
            "today": today,
        }
    context |= {"orphans": orphans or {}, "changed": changed, "pending": pending, "saved": saved}
    context |= {"note": note, "focus": focus}
    return page(TEMPLATE, block, status=status, **context)


def _choices(provider: Provider | None) -> list[Provider]:
    """Whose availability the owner can switch to: the active providers, and the one
    shown even when deactivated."""
    if not g.staff.is_owner:
        return []
    found = g.staff.visible_providers()
    if provider is not None and provider.id not in {p.id for p in found}:
        found.append(provider)
    return found
