"""User accounts, roles, password hashing and signed tokens."""
