"""Accounts: signing up and in, passwords and API tokens, emailed single-use links, the
profile and leaving, and a new business signing up with its owner."""
