"""The test tokens: name -> (secret, scopes). The server is configured with their sha256 only."""

from __future__ import annotations

from relstream.api.auth import hash_token

TOKENS = {
    "reader": ("reader-secret-1", "read"),
    "full": ("full-secret-2", "read+subjects"),
    "subjects-only": ("subjects-secret-3", "subjects"),
}
TOKEN_CONFIG = ",".join(f"{name}:{hash_token(secret)}:{scopes}" for name, (secret, scopes) in TOKENS.items())


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][0]}"}
