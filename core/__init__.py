"""Small shared plumbing: declarative base, VND money, Vietnamese text folding, dates, errors."""
