"""The schedule: a day with a column per provider, or one provider's week.

Both poll for changes made elsewhere (a customer books or cancels): htmx asks again
every few seconds with the ETag it was given, and gets 304 Not Modified, no body, until
a provider's calendar version (kept by database triggers) changes.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import g, make_response, request

from services import access
from services.workspace import schedule
from views.support import now, parse_date, parse_int
from views.web import page, wants_fragment
from views.workspace import bp, staff_only


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
