# One image for every relstream process: `relstream worker` (default), `relstream api`, `relstream demo-data`.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    RELSTREAM_DATA_DIR=/var/lib/relstream

WORKDIR /src
# Only what the package needs: the build context may hold a virtualenv and the local stack's Kafka data.
COPY pyproject.toml ./
COPY relstream ./relstream
COPY agents ./agents
# pyproject names README.md as the long description; an empty one keeps the build independent of it.
RUN touch README.md && pip install . && rm -rf /src

RUN useradd --system --uid 10001 --home-dir /var/lib/relstream --create-home relstream
USER relstream
WORKDIR /var/lib/relstream

# 6066: worker /healthz, /readyz, /metrics (bind 0.0.0.0 with RELSTREAM_WORKER_HOST); 8000: `relstream api`
EXPOSE 6066 8000
CMD ["relstream", "worker"]
