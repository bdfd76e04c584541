"""Connector configuration from the environment (SPEC §7); secrets come from a variable or its `*_FILE`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_STATE = ".stack/connector-state.json"


class ConfigError(Exception):
    """A missing or unusable setting; the message names the variable, never a secret's value."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or default


def _list(name: str, default: str = "") -> tuple[str, ...]:
    raw = _env(name, default) or ""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _positive_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if value <= 0:
        raise ConfigError(f"{name} must be > 0")
    return value


def _secret(name: str) -> str | None:
    """`NAME` or the contents of the file named by `NAME_FILE` (trailing newline dropped)."""
    value = os.environ.get(name)
    path = _env(f"{name}_FILE")
    if value and path:
        raise ConfigError(f"set either {name} or {name}_FILE, not both")
    if path:
        try:
            with open(path, encoding="utf-8") as handle:
                value = handle.read().rstrip("\r\n")
        except OSError as exc:
            raise ConfigError(f"{name}_FILE: cannot read {path} ({exc.strerror})") from None
    return value or None


@dataclass(frozen=True)
class ConnectorConfig:
    dataverse_url: str | None
    graph_url: str
    authority: str
    tenant_id: str | None
    client_id: str | None
    client_secret: str | None = field(repr=False)
    internal_domains: tuple[str, ...]
    mailboxes: tuple[str, ...]
    mail_folders: tuple[str, ...]
    calendar_past_days: int
    calendar_future_days: int
    page_size: int
    ca_bundle: str | None
    state: str

    @classmethod
    def from_env(cls) -> "ConnectorConfig":
        return cls(
            dataverse_url=(_env("RELSTREAM_DATAVERSE_URL") or "").rstrip("/") or None,
            graph_url=_env("RELSTREAM_GRAPH_URL", "https://graph.microsoft.com").rstrip("/"),
            authority=_env("RELSTREAM_AUTHORITY", "https://login.microsoftonline.com").rstrip("/"),
            tenant_id=_env("RELSTREAM_TENANT_ID"),
            client_id=_env("RELSTREAM_CLIENT_ID"),
            client_secret=_secret("RELSTREAM_CLIENT_SECRET"),
            internal_domains=tuple(d.lower().lstrip("@") for d in _list("RELSTREAM_INTERNAL_DOMAINS")),
            mailboxes=_list("RELSTREAM_MAILBOXES"),
            mail_folders=_list("RELSTREAM_MAIL_FOLDERS", "inbox,sentitems"),
            calendar_past_days=_positive_int("RELSTREAM_CALENDAR_PAST_DAYS", 365),
            calendar_future_days=_positive_int("RELSTREAM_CALENDAR_FUTURE_DAYS", 180),
            page_size=_positive_int("RELSTREAM_CONNECTOR_PAGE_SIZE", 500),
            ca_bundle=_env("RELSTREAM_CA_BUNDLE"),
            state=_env("RELSTREAM_CONNECTOR_STATE", DEFAULT_STATE),
        )

    def require(self, *names: str) -> None:
        """Fail with every missing variable at once, so an operator fixes the environment in one go."""
        env_names = {
            "dataverse_url": "RELSTREAM_DATAVERSE_URL",
            "tenant_id": "RELSTREAM_TENANT_ID",
            "client_id": "RELSTREAM_CLIENT_ID",
            "client_secret": "RELSTREAM_CLIENT_SECRET (or RELSTREAM_CLIENT_SECRET_FILE)",
            "internal_domains": "RELSTREAM_INTERNAL_DOMAINS",
            "mailboxes": "RELSTREAM_MAILBOXES",
        }
        missing = [env_names[name] for name in names if not getattr(self, name)]
        if missing:
            raise ConfigError("missing " + ", ".join(missing))
        if self.ca_bundle and not os.path.isfile(self.ca_bundle):
            raise ConfigError(f"RELSTREAM_CA_BUNDLE: no file at {self.ca_bundle}")
