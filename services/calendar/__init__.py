"""Calendar sync: bookings out to the calendars people use, and busy time in from them."""
