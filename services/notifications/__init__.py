"""Notifications: the outbox rows written with each booking change (``outbox``), their
delivery by email, web push and text (``delivery``), what they say (``messages``), and
what each person chooses to receive (``preferences``)."""
