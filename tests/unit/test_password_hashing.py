"""Production hashes passwords with scrypt; only a TESTING app may choose a cheaper method (the suite does)."""

from accounts import services
from storefront import create_app


def test_passwords_are_hashed_with_scrypt_unless_a_test_app_asks_otherwise():
    previous = services._hash_method
    try:
        services.use_hash_method_for_tests(None)
        assert services.hash_password("correct-horse-42").startswith("scrypt:")
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x", "PASSWORD_HASH_METHOD": "plain"})
        assert services.hash_password("correct-horse-42").startswith("scrypt:")
        create_app(
            {
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "SECRET_KEY": "x",
                "TESTING": True,
                "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1",
            }
        )
        assert services.hash_password("correct-horse-42").startswith("pbkdf2:sha256:1$")
    finally:
        services.use_hash_method_for_tests(previous)
