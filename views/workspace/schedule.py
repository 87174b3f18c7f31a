"""The schedule: a day with a column per provider, or one provider's week.

Both poll for changes made elsewhere (a customer books or cancels): htmx asks again
every few seconds with the ETag it was given, and gets 304 Not Modified, no body, until
a provider's calendar version (kept by database triggers) changes.

A free time on either offers a new booking (views/workspace/desk.py) or time off from
there: the Availability page's form and rules (services/workspace/availability.py),
asking in the same way what to do with bookings it would leave outside working time.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from flask import g, make_response, request, url_for
from htmx_flask import make_response as htmx_response

from models import Provider
from services import access
from services.workspace import availability as hours
from services.workspace import schedule
from views.forms import done
from views.support import now, parse_date, parse_instant, parse_int
from views.web import page, wants_fragment
from views.workspace import bp, staff_only
from views.workspace.availability import TimeOffForm, run_change, said

TIME_OFF = "workspace/new_time_off.html"


def _today():
    return now().astimezone(ZoneInfo(g.staff.organisation.timezone)).date()


def _shown_day():
    return parse_date(request.args["date"], "date") if request.args.get("date") else _today()


def _live(template: str, providers: list, days: str, context):
    """The page, or for htmx the schedule fragment; 304 without building anything when
    the poller already has the current one. ``context`` builds the template's values."""
    tag = schedule.version_tag(g.staff.user_id, providers, days, now())
    if wants_fragment() and request.headers.get("If-None-Match") == tag:
        response = make_response("", 304)
    else:
        response = page(template, "schedule", etag=tag, **context())
    if wants_fragment():
        response.headers["ETag"] = tag
    response.headers["Cache-Control"] = "no-cache, private"
    response.vary.add("HX-Request")
    return response


@bp.get("")
@staff_only
def day():
    org, shown = g.staff.organisation, _shown_day()
    providers = g.staff.visible_providers()
    return _live(
        "workspace/day.html",
        providers,
        shown.isoformat(),
        lambda: dict(
            org=org,
            grid=schedule.day_grid(providers, shown, org.timezone, now()),
            shown=shown,
            today=_today(),
            previous=shown - timedelta(days=1),
            following=shown + timedelta(days=1),
        ),
    )


@bp.get("/week")
@staff_only
def week():
    org, shown = g.staff.organisation, _shown_day()
    providers = g.staff.visible_providers()
    if request.args.get("provider"):
        asked = parse_int(request.args["provider"], "provider", "Choose a provider.")
        provider = access.provider_for(g.staff, asked)
    elif providers:
        provider = providers[0]
    else:
        provider = None
    monday = shown - timedelta(days=shown.weekday())
    return _live(
        "workspace/week.html",
        [provider] if provider else [],
        monday.isoformat(),
        lambda: dict(
            org=org,
            grid=schedule.week_grid(provider, monday, org.timezone, now()) if provider else None,
            provider=provider,
            providers=providers,
            chosen={"provider": provider.id} if provider and len(providers) > 1 else {},
            monday=monday,
            today=_today(),
            shown=shown,
        ),
    )


# Time off from a free time on the grid ----------------------------------------------


@bp.get("/time-off/new")
@staff_only
def new_time_off():
    """The time off form for the provider tapped, from the time tapped, for an hour."""
    provider = _provider_asked(request.args.get("provider"))
    start = parse_instant(request.args.get("start"), "start")
    tz = ZoneInfo(g.staff.organisation.timezone)
    begins, ends = start.astimezone(tz), (start + timedelta(hours=1)).astimezone(tz)
    form = TimeOffForm(
        formdata=None,
        start_date=begins.date().isoformat(),
        start_time=f"{begins:%H:%M}",
        end_date=ends.date().isoformat(),
        end_time=f"{ends:%H:%M}",
    )
    return _time_off_panel(provider, form, start=start)


@bp.post("/time-off/new")
@staff_only
def create_time_off():
    form = TimeOffForm()
    provider = _provider_asked(request.form.get("provider"))
    return run_change(
        form,
        lambda edit: hours.add_time_off(provider, form.typed(), edit),
        refused=lambda status, orphans, changed: _time_off_panel(
            provider, form, status, orphans=orphans or [], changed=changed
        ),
        saved=lambda outcome: _time_off_added(provider, form, said("Time off added.", outcome)),
    )


def _provider_asked(value: str | None) -> Provider:
    return access.provider_for(g.staff, parse_int(value, "provider", "Choose a provider."))


def _time_off_panel(provider: Provider, form: TimeOffForm, status: int = 200, **extra):
    context = dict(start=None, orphans=[], changed=False, added=None) | extra
    return page(
        TIME_OFF,
        "panel",
        status=status,
        org=g.staff.organisation,
        provider=provider,
        form=form,
        day=_typed_day(form.start_date.data),
        **context,
    )


def _typed_day(text: str | None) -> date:
    """The day the time off typed starts on (today while that is no date): where
    "Back to the schedule" goes."""
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return _today()


def _time_off_added(provider: Provider, form: TimeOffForm, message: str):
    """For htmx the panel saying so (and the schedule told to refresh); otherwise back
    to the schedule on the day the time off starts."""
    if wants_fragment():
        response = _time_off_panel(provider, form, added=message)
        return htmx_response(response, trigger="schedule-changed")
    day = _typed_day(form.start_date.data)
    return done(url_for(".day", slug=g.staff.organisation.slug, date=day.isoformat()), message)
