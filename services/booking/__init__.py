"""Booking: what a business offers, when it is free, and booking, cancelling and moving
appointments."""
