"""services/access.py, the one rule on who may see or change a booking, case by case.

The world (tests/integration/workspace.py): Casey booked Ana (an assessment), Sam booked
Tom (a massage), both on Mon 30 Nov at 10:00; another business has its own owner and
booking. The assessment may be changed online until 48 hours before it starts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from models import Booking, Service, User
from services import access
from services.booking import appointments as bookings
from services.errors import Forbidden, NotChangeable, NotFound, OutsideCancellationWindow
from services.notifications.outbox import Dispatch
from services.validation import LARGEST_INT
from tests.integration.workspace import MON_10

WINDOW = timedelta(hours=48)
DEADLINE = MON_10 - WINDOW  # Sat 28 Nov, 10:00
BEFORE = DEADLINE - timedelta(seconds=1)
AFTER = DEADLINE + timedelta(hours=1)  # too late, though more than 24 hours before
STARTED = MON_10 + timedelta(minutes=5)


@pytest.fixture
def people(world):
    """Who is who, by name: Tom signs in as the provider of his own column."""
    tom = User.get(User.email == "tom@clinic.test")
    Service.update(cancellation_window_hours=48).where(Service.id == world["assessment"]).execute()
    return {
        "Casey (its customer)": world["customer"].id,
        "Sam (another customer)": world["tom's customer"],
        "Ana (its provider)": world["provider"].id,
        "Tom (another column)": tom.id,
        "the owner": world["owner"].id,
        "another business's owner": world["other owner"].id,
    }


# Who may change Ana's booking (Casey's assessment), and when ---------------------------------

CHANGE = [
    ("Casey (its customer)", BEFORE, None),
    ("Casey (its customer)", AFTER, OutsideCancellationWindow),
    ("Casey (its customer)", STARTED, OutsideCancellationWindow),
    ("Sam (another customer)", BEFORE, NotFound),
    ("Ana (its provider)", AFTER, None),
    ("Ana (its provider)", STARTED, None),
    ("Tom (another column)", BEFORE, NotFound),
    ("the owner", STARTED, None),
    ("another business's owner", BEFORE, NotFound),
]


@pytest.mark.parametrize(("who", "when", "refused"), CHANGE)
def test_who_may_change_a_booking_and_when(world, people, who, when, refused):
    booking_id = world["ana's booking"]
    if refused is None:
        assert access.changeable(booking_id, people[who], when).id == booking_id
    else:
        with pytest.raises(refused):
            access.changeable(booking_id, people[who], when)


@pytest.mark.parametrize(
    ("who", "refused"),
    [
        ("Casey (its customer)", NotChangeable),
        ("Ana (its provider)", NotChangeable),
        ("the owner", NotChangeable),
        ("Tom (another column)", NotFound),  # a cancelled booking is still nobody else's
        ("another business's owner", NotFound),
    ],
)
def test_a_cancelled_booking_cannot_be_changed_by_anyone(world, people, clock, who, refused):
    bookings.cancel(
        booking_id=world["ana's booking"],
        actor_id=people["the owner"],
        now=clock(),
        dispatch=Dispatch(),
    )
    with pytest.raises(refused):
        access.changeable(world["ana's booking"], people[who], BEFORE)


def test_the_outside_window_refusal_says_until_when(world, people):
    with pytest.raises(OutsideCancellationWindow) as refused:
        access.changeable(world["ana's booking"], people["Casey (its customer)"], AFTER)
    assert refused.value.deadline == DEADLINE
    assert refused.value.timezone == "Europe/London"


def test_a_booking_that_does_not_exist_is_not_found(people):
    for booking_id in (424242, LARGEST_INT + 1):
        with pytest.raises(NotFound):
            access.changeable(booking_id, people["the owner"], BEFORE)


# Who may see it -------------------------------------------------------------------------------


def test_a_customer_sees_only_their_own_bookings(world, people):
    casey = people["Casey (its customer)"]
    assert access.customer_booking(casey, world["ana's booking"]).id == world["ana's booking"]
    for booking_id in (world["tom's booking"], world["other's booking"], LARGEST_INT + 1):
        with pytest.raises(NotFound) as missing:
            access.customer_booking(casey, booking_id, missing="Not here.")
        assert missing.value.message == "Not here."
    assert [b.id for b in access.customer_bookings(casey)] == [world["ana's booking"]]


@pytest.mark.parametrize(
    ("who", "slug", "sees"),
    [
        ("Ana (its provider)", "clinic", {"ana's booking"}),
        ("Tom (another column)", "clinic", {"tom's booking"}),
        ("the owner", "clinic", {"ana's booking", "tom's booking"}),
        ("another business's owner", "elsewhere", {"other's booking"}),
    ],
)
def test_staff_see_their_column_or_the_whole_business(world, people, who, slug, sees):
    staff = access.staff_of(people[who], slug)
    every = ("ana's booking", "tom's booking", "other's booking")
    for name in every:
        if name in sees:
            assert access.booking_for(staff, world[name]).id == world[name]
        else:
            with pytest.raises(NotFound):
                access.booking_for(staff, world[name])
    assert {n for n in every if staff.may_manage(Booking.get_by_id(world[n]))} == sees


def test_customers_are_not_staff(people):
    with pytest.raises(Forbidden):
        access.staff_of(people["Casey (its customer)"], "clinic")
    assert access.staff_in(
        people["the owner"], access.staff_of(people["the owner"], "clinic").organisation
    )
    another = access.staff_of(people["another business's owner"], "elsewhere")
    assert access.staff_in(people["Casey (its customer)"], another.organisation) is None


# What the pages say about changing it -------------------------------------------------------


def test_change_facts_for_the_customer_and_for_staff(world, people):
    booking = Booking.with_details().where(Booking.id == world["ana's booking"]).get()

    assert access.change_facts(booking, BEFORE) == {
        "changeable": True,
        "cancellable": True,
        "deadline": DEADLINE,
        "past": False,
    }
    assert access.change_facts(booking, AFTER)["changeable"] is False
    assert access.change_facts(booking, AFTER)["cancellable"] is False  # not paid online
    assert access.change_facts(booking, AFTER, as_staff=True)["changeable"] is True
    assert access.change_facts(booking, STARTED, as_staff=True) == {
        "changeable": True,
        "cancellable": True,
        "deadline": DEADLINE,
        "past": True,
    }

    booking.status = "cancelled"
    assert access.change_facts(booking, BEFORE)["changeable"] is False
    assert access.change_facts(booking, BEFORE, as_staff=True)["changeable"] is False


def test_the_rules_read_the_clock_they_are_given(world, people):
    casey = people["Casey (its customer)"]
    just_before = datetime(2026, 11, 28, 9, 59, 59, tzinfo=UTC)
    assert access.changeable(world["ana's booking"], casey, just_before)
    with pytest.raises(OutsideCancellationWindow):
        access.changeable(world["ana's booking"], casey, DEADLINE)  # at the deadline: too late
