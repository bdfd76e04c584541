"""One settings object, read from the environment (SPEC §6 and the README's configuration table)."""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlparse


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value == "" else value


def _float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise SystemExit(f"configuration error: {name}={raw!r} is not a number") from exc


def _int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise SystemExit(f"configuration error: {name}={raw!r} is not an integer") from exc


def _weight(name: str) -> float:
    value = _float(name, 1.0)
    if not 0.5 <= value <= 1.5:
        raise SystemExit(f"configuration error: {name}={value} must be between 0.5 and 1.5 (SPEC §4)")
    return value


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "localhost:9092"
    redis_url: str = "redis://localhost:6379/0"
    topic_prefix: str = "relstream"
    window_days: int = 365
    health_frequency_days: float = 7.0
    health_weights: dict[str, float] = field(
        default_factory=lambda: {"email": 1.0, "meeting": 1.0, "phone_call": 1.0}
    )
    partitions: int = 4
    flush_interval_s: float = 0.25
    frozen_clock: datetime | None = None
    store: str = "memory://"
    data_dir: str = ".stack/worker"
    worker_web_port: int = 6066
    worker_web_host: str = "127.0.0.1"
    ready_max_lag: int = 100_000

    @classmethod
    def from_env(cls) -> "Settings":
        frozen = os.environ.get("RELSTREAM_FROZEN_CLOCK")
        frozen_at = None
        if frozen:
            from relstream.timeutil import parse_timestamp

            frozen_at = parse_timestamp(frozen)
            if frozen_at is None:
                raise SystemExit(f"configuration error: RELSTREAM_FROZEN_CLOCK={frozen!r} is not RFC 3339")
        window = _int("RELSTREAM_WINDOW_DAYS", 365)
        frequency = _float("RELSTREAM_HEALTH_FREQUENCY_DAYS", 7.0)
        if window < 1 or frequency <= 0:
            raise SystemExit("configuration error: RELSTREAM_WINDOW_DAYS and RELSTREAM_HEALTH_FREQUENCY_DAYS must be > 0")
        return cls(
            kafka_bootstrap=_env("RELSTREAM_KAFKA_BOOTSTRAP", "localhost:9092"),
            redis_url=_env("RELSTREAM_REDIS_URL", "redis://localhost:6379/0"),
            topic_prefix=_env("RELSTREAM_TOPIC_PREFIX", "relstream"),
            window_days=window,
            health_frequency_days=frequency,
            health_weights={
                "email": _weight("RELSTREAM_HEALTH_WEIGHT_EMAIL"),
                "meeting": _weight("RELSTREAM_HEALTH_WEIGHT_MEETING"),
                "phone_call": _weight("RELSTREAM_HEALTH_WEIGHT_PHONE_CALL"),
            },
            partitions=_int("RELSTREAM_PARTITIONS", 4),
            flush_interval_s=_float("RELSTREAM_FLUSH_INTERVAL_S", 0.25),
            frozen_clock=frozen_at,
            store=_env("RELSTREAM_STORE", "memory://"),
            data_dir=_env("RELSTREAM_DATA_DIR", ".stack/worker"),
            worker_web_port=_int("RELSTREAM_WORKER_PORT", 6066),
            worker_web_host=_env("RELSTREAM_WORKER_HOST", "127.0.0.1"),
            ready_max_lag=_int("RELSTREAM_READY_MAX_LAG", 100_000),
        )

    def now(self) -> datetime:
        """The evaluation clock: frozen in tests and replays of the worked example, wall clock otherwise."""
        return self.frozen_clock or datetime.now(timezone.utc)

    @property
    def redis_address(self) -> str:
        """host:port/db only: a password in RELSTREAM_REDIS_URL must not reach terminals and logs."""
        parsed = urlparse(self.redis_url)
        return f"{parsed.hostname}:{parsed.port or 6379}{parsed.path}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}.{name}"

    def key(self, *parts: str) -> str:
        return ":".join((self.topic_prefix, *parts))
