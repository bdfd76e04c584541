"""Schemathesis against the served OpenAPI: no 5xx, responses match their declared schemas and statuses.

Uses schemathesis's Python API with Hypothesis directly: its lazy pytest fixture loader does not run under
pytest 9 (`Function` lost `_nodeid`).
"""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
import schemathesis
from api_tokens import auth
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode


@pytest.fixture(scope="module")
def api_schema(api_url):
    return schemathesis.openapi.from_url(api_url + "/openapi.json").exclude(path_regex=r"/stream$")  # endless by design


@pytest.fixture(scope="module")
def known_records(filled_redis) -> list[dict[str, str]]:
    return [dict(zip(("type", "id"), key.split(":", 1), strict=True)) for key in sorted(filled_redis.documents)]


def cases(operation, mode, known_records):
    """Generated cases; positive ones also for records that exist, so documents (not only 404s) are checked.

    The token is fixed (never mutated): negative cases exercise validation, test_api_auth covers auth.
    """
    generated = operation.as_strategy(generation_mode=mode, headers=auth("full"))
    if mode is GenerationMode.NEGATIVE:
        return generated
    existing = st.sampled_from(known_records).flatmap(
        lambda record: operation.as_strategy(generation_mode=mode, headers=auth("full"), path_parameters=record)
    )
    strategy = st.one_of(generated, existing) if "id" in {p.name for p in operation.path_parameters} else generated
    # Cursors are opaque: a schema-valid string is still not one the server issued (400; see test_api_records).
    return strategy.filter(lambda case: "cursor" not in (case.query or {}))


def operations(schema):
    return [result.ok() for result in schema.get_all_operations()]


def test_schema_lists_every_endpoint(api_schema):
    assert {op.label for op in operations(api_schema)} == {
        "GET /healthz",
        "GET /readyz",
        "GET /v1/records/{type}",
        "GET /v1/records/{type}/{id}/kpis",
        "GET /v1/records/{type}/{id}/kpis/{widget}",
        "GET /v1/records/{type}/{id}/activities",
    }


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["positive", "negative"])
def test_api_conforms_to_its_openapi(api_schema, known_records, mode):
    for operation in operations(api_schema):
        if mode is GenerationMode.NEGATIVE and not (operation.path_parameters or operation.query):
            continue  # nothing to make invalid (the probes)

        @given(case=cases(operation, mode, known_records))
        @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def conforms(case):
            case.call_and_validate(timeout=10)

        conforms()
