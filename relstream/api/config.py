"""The API's own settings (auth, CORS), read from the environment once at start-up.

Only the operator configures tokens: each is stored as the sha256 of the secret, never the secret itself,
so a leaked configuration file does not leak a usable token.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

SCOPES = frozenset({"read", "subjects"})
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Token:
    name: str
    sha256: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class ApiConfig:
    auth: bool = True
    tokens: tuple[Token, ...] = ()
    cors_origins: tuple[str, ...] = ()
    stream_interval_s: float = 1.0

    @classmethod
    def from_env(cls) -> ApiConfig:
        auth = os.environ.get("RELSTREAM_API_AUTH", "on").strip().lower() or "on"
        if auth not in ("on", "off"):
            raise SystemExit(f"configuration error: RELSTREAM_API_AUTH={auth!r} must be 'on' or 'off'")
        origins = os.environ.get("RELSTREAM_API_CORS_ORIGINS", "")
        return cls(
            auth=auth == "on",
            tokens=parse_tokens(_token_source()),
            cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        )


def _token_source() -> str:
    """`RELSTREAM_API_TOKENS`, or the file named by `RELSTREAM_API_TOKENS_FILE` (a mounted secret)."""
    path = os.environ.get("RELSTREAM_API_TOKENS_FILE")
    if path:
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SystemExit(f"configuration error: RELSTREAM_API_TOKENS_FILE: {exc}") from exc
    return os.environ.get("RELSTREAM_API_TOKENS", "")


def parse_tokens(text: str) -> tuple[Token, ...]:
    """`name:sha256hex:scope1+scope2` entries separated by commas or lines; `#` starts a comment line."""
    entries = [
        entry.strip()
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for entry in line.split(",")
        if entry.strip()
    ]
    tokens: dict[str, Token] = {}
    for entry in entries:
        parts = entry.split(":")
        if len(parts) != 3 or not parts[0] or not _HEX64.match(parts[1].lower()):
            raise SystemExit(
                "configuration error: RELSTREAM_API_TOKENS entries are name:sha256hex:scopes "
                f"(got {parts[0] or '?'}:…); `relstream api --hash-token TOKEN` prints one"
            )
        name, digest, scope_text = parts
        scopes = frozenset(s for s in scope_text.split("+") if s)
        if not scopes or not scopes <= SCOPES:
            raise SystemExit(f"configuration error: token {name!r}: scopes must be among {sorted(SCOPES)}")
        if name in tokens:
            raise SystemExit(f"configuration error: token name {name!r} appears twice")
        tokens[name] = Token(name, digest.lower(), scopes)
    return tuple(tokens.values())
