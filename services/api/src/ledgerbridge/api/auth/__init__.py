"""Sign-up, sign-in with rotating refresh tokens, the signed-in user, and the account's users."""
