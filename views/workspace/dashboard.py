"""The dashboard ("Today"): the next appointments, and a week's figures with a chart."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from flask import g, request

from services.workspace import dashboard as figures
from views.support import absolute_url, now, parse_date
from views.web import page
from views.workspace import bp, staff_only
from views.workspace.calendar import qr_svg


def percent(share: float | None) -> str:
    return "—" if share is None else f"{share:.0%}"


def hours(minutes: int) -> str:
    return f"{minutes / 60:.1f}".removesuffix(".0")


@bp.get("/dashboard")
@staff_only
def dashboard():
    org = g.staff.organisation
    providers = g.staff.visible_providers()
    this_week = figures.monday_of(now().astimezone(ZoneInfo(org.timezone)).date())
    asked = request.args.get("week")
    first = figures.monday_of(parse_date(asked, "week")) if asked else this_week
    week = figures.week_figures(providers, first, org.timezone, org.currency)
    today = figures.today(providers, now(), org.timezone)
    setup = figures.setup(org, g.staff.provider, g.staff.is_owner)
    booking_page = absolute_url("public.organisation", slug=org.slug)
    return page(
        "workspace/dashboard.html",
        "week",
        org=org,
        today=today,
        ahead=None if today.next else figures.next_day_ahead(providers, today.day, org.timezone),
        setup=setup,
        booking_page=booking_page,
        booking_qr=qr_svg(booking_page) if setup else None,
        week=week,
        chart=figures.bar_chart(week.days),
        this_week=this_week,
        previous=first - timedelta(days=7),
        following=first + timedelta(days=7),
        now_instant=now(),
        percent=percent,
        hours=hours,
    )
