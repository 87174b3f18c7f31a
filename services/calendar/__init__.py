"""Calendar sync: bookings out to the calendars providers use, their busy time in."""
