"""Scan the repository for secrets: private keys, cloud and API tokens, secret-looking values.

Every file git tracks or would track (untracked but not ignored) is read; a hit is reported as
`path:line: rule` with the value masked. Values that are fake on purpose are allow-listed below
with the reason, and the secrets of the published provider test vectors are allow-listed by
reading them from the vectors file.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "tests" / "fixtures" / "providers" / "vectors.json"
MAX_FILE_BYTES = 2_000_000

# Files that must not be in the repository at all, whatever they contain.
FORBIDDEN_FILES = (
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "id_rsa*",
    "id_ecdsa*",
    "id_ed25519*",
    ".netrc",
    ".pypirc",
    "dev-secrets.json",
)
# Templates that document variables without values.
ALLOWED_FILES = (".env.example", ".env.sample", ".env.template")

TOKEN_RULES = {
    "private-key-block": re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----"),
    "aws-access-key-id": re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b"),
    "aws-secret-access-key": re.compile(
        r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9/+]{40}\b"
    ),
    "github-token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})"),
    "slack-token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "slack-webhook-url": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/\w+"),
    "stripe-live-key": re.compile(r"\b[rs]k_live_[A-Za-z0-9]{16,}"),
    "google-api-key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "url-with-password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:([^/\s:@\"'$]{8,})@"),
}
# A secret-looking name, then = or :, then a quoted or bare value.
ASSIGNMENT = re.compile(
    r"(?i)(?P<name>[A-Za-z0-9_.-]*(?:secret|passw(?:or)?d|token|api[_-]?key|private[_-]?key"
    r"|access[_-]?key|credential)[A-Za-z0-9_.-]*)[\"']?\s*(?::=|=>|=|:)\s*"
    r"(?P<quote>[\"']?)(?P<value>[A-Za-z0-9+/=_\-.~]{16,})(?P=quote)"
    # An unquoted value followed by a call, attribute or index is code, not a literal.
    r"(?![\w(.\[])"
)
# Below these, a value reads like a word or an identifier rather than a generated secret.
MIN_ENTROPY_BITS = 3.0
MIN_VALUE_LENGTH = 16


@dataclass(frozen=True)
class Allowed:
    value: str
    reason: str
    # Glob of the files where the value may appear; "*" for anywhere.
    paths: str = "*"


# Values that look like secrets but are fake on purpose, each with its reason.
ALLOWED_VALUES = (
    *(
        Allowed(value, "credentials the distributed end-to-end test gives its own sandbox", path)
        for value, path in (
            ("e2e-nowpayments-api-key", "tests/e2e/*"),
            ("e2e-nowpayments-ipn-secret", "tests/e2e/*"),
            ("e2e-coinbase-api-key", "tests/e2e/*"),
            ("e2e-coinbase-webhook-secret", "tests/e2e/*"),
        )
    ),
    Allowed("rw-key-0123456789", "the fake mailcow server's API key", "tests/libs/mail/*"),
    Allowed("Correct-Horse-42", "a mailbox password sent to the fake server", "tests/libs/mail/*"),
    Allowed(
        "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
        "the well-known base32 TOTP example secret, checked in an otpauth URI",
        "tests/services/identity/*",
    ),
)
# Values the URL rule flags that are the documented local development credentials.
ALLOWED_URL_PASSWORDS = (
    Allowed("guest", "RabbitMQ's built-in local account, reachable only from localhost"),
)


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.detail}"


def repository_files(root: Path) -> list[Path]:
    """Return the files git tracks or would track under `root` (ignored files excluded)."""
    git = shutil.which("git")
    if git is None:
        pytest.fail("git is not on PATH; the secret scan lists the repository's files with it")
    listed = subprocess.run(  # noqa: S603 (a fixed git command, no user input)
        [git, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return [root / name for name in sorted(set(listed.split("\0"))) if name]


def vector_secrets() -> set[str]:
    """Return the secrets of the published provider test vectors (test values by design)."""
    vectors = json.loads(VECTORS.read_text())
    return {v["secret"] for v in vectors if v.get("secret")}


def shannon_entropy(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def looks_generated(value: str) -> bool:
    """Tell a generated secret (mixed letters and digits, high entropy) from a word or name."""
    if len(value) < MIN_VALUE_LENGTH:
        return False
    if not (re.search(r"[A-Za-z]", value) and re.search(r"\d", value)):
        return False
    return shannon_entropy(value) >= MIN_ENTROPY_BITS


def mask(value: str) -> str:
    return value[:4] + "..." + f"({len(value)} chars)"


def _allowed(value: str, relative: str, allowed: tuple[Allowed, ...], extra: set[str]) -> bool:
    if value in extra:
        return True
    return any(a.value == value and fnmatch(relative, a.paths) for a in allowed)


def scan_line(relative: str, number: int, line: str, test_values: set[str]) -> list[Finding]:
    found: list[Finding] = []
    for rule, pattern in TOKEN_RULES.items():
        for match in pattern.finditer(line):
            if rule == "url-with-password":
                if _allowed(match.group(1), relative, ALLOWED_URL_PASSWORDS, set()):
                    continue
                if not looks_generated(match.group(1)):
                    continue
            found.append(Finding(relative, number, rule, mask(match.group(0))))
    for match in ASSIGNMENT.finditer(line):
        value = match.group("value")
        if relative.endswith(".py") and not match.group("quote"):
            # In Python an unquoted right-hand side is code (a name or an annotation).
            continue
        if not looks_generated(value) or _allowed(value, relative, ALLOWED_VALUES, test_values):
            continue
        detail = f"{match.group('name')} = {mask(value)}"
        found.append(Finding(relative, number, "secret-assignment", detail))
    return found


def scan_file(root: Path, path: Path, test_values: set[str]) -> list[Finding]:
    relative = path.relative_to(root).as_posix()
    name = path.name
    if name not in ALLOWED_FILES and any(fnmatch(name, pattern) for pattern in FORBIDDEN_FILES):
        return [Finding(relative, 0, "forbidden-file", f"{name} must not be committed")]
    if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
        return []
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return []
    text = data.decode("utf-8", errors="replace")
    found: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found += scan_line(relative, number, line, test_values)
    return found


def scan_tree(root: Path, files: list[Path]) -> list[Finding]:
    test_values = vector_secrets()
    found: list[Finding] = []
    for path in files:
        found += scan_file(root, path, test_values)
    return found


def test_repository_has_no_secrets() -> None:
    findings = scan_tree(ROOT, repository_files(ROOT))

    assert not findings, "possible secrets in the repository:\n" + "\n".join(map(str, findings))


# The planted values are assembled at run time so that this file itself contains none of them.
PLANTED = {
    "private-key-block": "-----BEGIN " + "RSA PRIVATE KEY-----",
    "aws-access-key-id": "key_id = " + "AKIA" + "Q3EGRXBZ7N2V5KJT",
    "github-token": "auth: " + "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "secret-assignment": "webhook_secret = '" + "k9Xq2Lm7Vt4Rb8Nz" + "3Hc6Wp1Jd5'",
    "url-with-password": "postgresql://app:" + "Zr8kQ2xLm4Vb7Nt1" + "@db.internal/app",
}


@pytest.mark.parametrize("rule", sorted(PLANTED))
def test_scanner_flags_planted_secret(rule: str, tmp_path: Path) -> None:
    planted = tmp_path / "settings.py"
    planted.write_text("# config\n" + PLANTED[rule] + "\n")

    findings = scan_tree(tmp_path, [planted])

    assert [(f.path, f.line, f.rule) for f in findings] == [("settings.py", 2, rule)]


def test_scanner_flags_env_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("BWAI_LOG_LEVEL=INFO\n")
    example = tmp_path / ".env.example"
    example.write_text("BWAI_LOG_LEVEL=INFO\n")

    findings = scan_tree(tmp_path, [env_file, example])

    assert [(f.path, f.rule) for f in findings] == [(".env", "forbidden-file")]


@pytest.mark.parametrize(
    "line",
    [
        "nowpayments_ipn_secret: SecretStr | None = None",
        'SECRET_NAME = "nowpayments_ipn_secret"',
        'token = "rotation-test-secret-before"',
        "amqp_url = 'amqp://guest:guest@127.0.0.1:5672/'",
    ],
)
def test_scanner_ignores_names_and_words(line: str) -> None:
    assert scan_line("example.py", 1, line, set()) == []


def test_vector_secrets_allow_listed() -> None:
    secrets = vector_secrets()

    assert secrets
    for value in secrets:
        assert scan_line("x.py", 1, f'secret = "{value}"', secrets) == []
