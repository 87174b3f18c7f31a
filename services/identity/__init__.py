"""Ways to sign in without a password (issue 17): Google, Apple and Facebook
(``social``), a code texted to a phone (``phone``), passkeys (``passkeys``), and the
list of an account's sign-in methods with the rule that one always remains
(``methods``)."""
