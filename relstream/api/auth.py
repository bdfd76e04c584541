"""Bearer-token authentication and scopes.

The presented token is hashed and compared against every configured hash with `hmac.compare_digest`,
so neither the comparison nor the loop leaks how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from relstream.api.config import ApiConfig
from relstream.api.errors import ApiError

_bearer = HTTPBearer(auto_error=False, description="A token configured in RELSTREAM_API_TOKENS")


@dataclass(frozen=True)
class Principal:
    name: str
    scopes: frozenset[str]

    @property
    def sees_subjects(self) -> bool:
        return "subjects" in self.scopes


# With auth off (RELSTREAM_API_AUTH=off) everyone may read, but subjects stay hidden: they are personal data.
ANONYMOUS = Principal("anonymous", frozenset({"read"}))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def authenticate(config: ApiConfig, token: str | None) -> Principal:
    if not config.auth:
        return ANONYMOUS
    if not token:
        raise ApiError(401, "unauthorized", "missing bearer token (Authorization: Bearer <token>)")
    presented = hash_token(token)
    found = None
    for candidate in config.tokens:
        if hmac.compare_digest(presented, candidate.sha256):
            found = candidate
    if found is None:
        raise ApiError(401, "unauthorized", "invalid bearer token")
    return Principal(found.name, found.scopes)


async def reader(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """Dependency of every /v1 route: an authenticated principal holding the `read` scope."""
    principal = authenticate(request.app.state.api_config, credentials.credentials if credentials else None)
    if "read" not in principal.scopes:
        raise ApiError(403, "forbidden", f"token {principal.name!r} lacks the 'read' scope")
    return principal
