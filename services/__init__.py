"""The use cases, one package per domain; views, the API and tasks all call these.

- ``booking/``: the catalogue, free slots, the customer's journey, and booking,
  cancelling and moving appointments (with their calendar links).
- ``accounts/``: people's accounts, passwords and tokens, emailed links, a business
  signing up.
- ``notifications/``: the outbox (who is told what), delivery by email, push and text,
  and people's choices.
- ``workspace/``: what a business's staff do: schedule, bookings from the desk,
  availability, services, staff, customers, dashboard and settings.

Neutral modules that every domain uses: ``access`` (who may see or change what),
``errors`` (domain errors), ``validation`` (checking what people type), ``formats``
(how amounts and times read) and ``mail`` (the one way email leaves).
"""
