"""Password policy and hashing (argon2id, the same hasher as client secrets).

The policy follows NIST SP 800-63B section 5.1.1.2: a minimum length, no composition rules, and
a check against commonly used passwords and the account's own email address.
"""

from __future__ import annotations

from bwai_identity.clients.secrets import hash_secret, needs_rehash, verify_secret
from bwai_identity.errors import PasswordPolicyViolated

# Longer passwords are allowed by argon2 but add nothing; the cap bounds the hashing work.
MAX_PASSWORD_LENGTH = 256
# A short list of the passwords most often found in breach corpora; the length rule covers the
# rest of the short ones.
COMMON_PASSWORDS = frozenset(
    {
        "123456789012",
        "password1234",
        "passwordpassword",
        "qwertyuiopas",
        "qwerty123456",
        "iloveyou1234",
        "letmein12345",
        "administrator",
        "changeme1234",
        "welcome12345",
        "buildwithai1",
    }
)

hash_password = hash_secret
password_needs_rehash = needs_rehash


def check_password_policy(password: str, *, min_length: int, email: str) -> None:
    """Raise PasswordPolicyViolated listing every rule `password` breaks; return if none."""
    problems = _problems(password, min_length=min_length, email=email)
    if problems:
        raise PasswordPolicyViolated(
            "the password is rejected: " + "; ".join(problems),
            errors=[{"field": "password", "message": problem} for problem in problems],
        )


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Return whether `password` matches; a None hash is checked against a decoy (same time)."""
    return await verify_secret(password_hash, password)


def _problems(password: str, *, min_length: int, email: str) -> list[str]:
    problems = []
    if len(password) < min_length:
        problems.append(f"use at least {min_length} characters (got {len(password)})")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"use at most {MAX_PASSWORD_LENGTH} characters")
    if len(set(password)) < 4:
        problems.append("use at least 4 different characters")
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        problems.append("this password is too common; choose another")
    local_part = email.lower().partition("@")[0]
    if len(local_part) >= 4 and local_part in lowered:
        problems.append("do not include your email address")
    return problems
