"""Calendars outside Kairos: private ICS feeds of a provider's or a business's bookings
(feeds.py)."""
