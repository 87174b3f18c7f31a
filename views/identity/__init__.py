"""Signing in without a password (issue 17): Account → Sign-in methods (``methods``),
Google, Apple and Facebook (``social``), a texted code (``phone``), passkeys
(``passkeys``). Each module has its own blueprint; app.py registers ``BLUEPRINTS``."""

from views.identity import methods, passkeys, phone, social

BLUEPRINTS = (methods.bp, social.bp, phone.bp, passkeys.bp)
