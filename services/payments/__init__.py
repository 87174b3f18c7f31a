"""Payments for bookings, through each business's own Stripe account.

A service may ask for nothing online, a deposit, or the full price (policy.py). Booking
it online then goes like this:

1. The booking is made ``pending_payment``, with ``hold_expires_at``: it keeps the
   provider busy through the same constraint as any booking (services/booking).
2. checkout.open_hold creates a PaymentIntent, once per booking (its Idempotency-Key is
   the booking's), with the booking's id in its metadata.
3. The customer's card is confirmed server-side (checkout.pay), with 3-D Secure done
   in the browser by Stripe.js when the bank asks for it.
4. The booking is confirmed by checkout.settle once the server has seen the intent
   succeed, from the webhook (webhooks.py) or from asking Stripe when the customer
   comes back, whichever is first, and only once: a conditional update from
   pending_payment. Only then are the confirmations sent.
5. A hold nobody paid for expires (checkout.expire_due, every minute): the slot is
   free again and the intent cancelled. A payment that still succeeds for a booking no
   longer pending is refunded in full, and the customer told.

Refunds follow refunds.py's rules, each once (PaymentRefund.key, also sent to Stripe
as the Idempotency-Key). Staff record payments taken at the venue (venue.py).
"""
