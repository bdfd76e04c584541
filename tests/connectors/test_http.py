"""Tokens, throttling, retries, TLS trust and delta paging against the local fakes (no Kafka)."""
from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from relstream.connectors.delta import delta_pages
from relstream.connectors.http import (
    ApiClient, HttpError, RetryPolicy, TokenSource, new_session, retry_after_seconds, with_query,
)
from tests.connectors.fakes import FakeAuthority, FakeDataverse
from tests.connectors.harness import CLIENT_ID, CLIENT_SECRET, TENANT

FAST = RetryPolicy(attempts=3, base_s=0.01, cap_s=0.05)


@pytest.fixture
async def servers():
    authority = await FakeAuthority(TENANT, CLIENT_ID, CLIENT_SECRET).start()
    dataverse = await FakeDataverse(authority).start()
    dataverse.table("accounts", "accountid")
    for n in range(5):
        dataverse.upsert("accounts", {"accountid": f"a-{n}", "name": f"Account {n}"})
    yield authority, dataverse
    await dataverse.close()
    await authority.close()


def client_for(session, authority, dataverse, policy=FAST, secret=CLIENT_SECRET) -> ApiClient:
    tokens = TokenSource(session, policy, authority.url, TENANT, CLIENT_ID, secret, f"{dataverse.url}/.default")
    return ApiClient(session, tokens, policy, {"Accept": "application/json"})


async def test_token_is_reused_and_refreshed_once_after_a_401(servers):
    authority, dataverse = servers
    url = with_query(f"{dataverse.url}/api/data/v9.2/accounts", {"$select": "name"})
    async with new_session(None) as session:
        client = client_for(session, authority, dataverse)
        assert len((await client.get_json(url))["value"]) == 5
        await client.get_json(url)
        assert authority.issued == [f"{dataverse.url}/.default"]
        authority.revoke_all()  # as if the token had expired early
        assert len((await client.get_json(url))["value"]) == 5
        assert len(authority.issued) == 2
        dataverse.inject("/accounts", 401, times=2)  # still 401 after the refresh: give up
        with pytest.raises(HttpError) as caught:
            await client.get_json(url)
        assert caught.value.status == 401 and len(authority.issued) == 3


async def test_throttling_waits_for_retry_after_and_transient_errors_back_off(servers):
    authority, dataverse = servers
    url = f"{dataverse.url}/api/data/v9.2/accounts"
    async with new_session(None) as session:
        client = client_for(session, authority, dataverse)
        dataverse.inject("/accounts", 429, {"Retry-After": "1"})
        started = time.monotonic()
        await client.get_json(url)
        assert time.monotonic() - started >= 0.95
        dataverse.inject("/accounts", 503, times=2)
        await client.get_json(url)
        dataverse.inject("/accounts", 503, times=3)
        with pytest.raises(HttpError, match="gave up after 3 attempts"):
            await client.get_json(url)
        dataverse.inject("/accounts", 404)
        with pytest.raises(HttpError) as caught:
            await client.get_json(url)
        assert caught.value.status == 404 and caught.value.path == "/api/data/v9.2/accounts"


async def test_network_errors_are_retried_then_reported(servers):
    authority, dataverse = servers
    async with new_session(None) as session:
        client = client_for(session, authority, dataverse)
        url = f"{dataverse.url}/api/data/v9.2/accounts"
        await dataverse.close()
        with pytest.raises(HttpError, match=r"gave up after 3 attempts \(ClientConnectorError\)"):
            await client.get_json(url)
    await dataverse.start()  # for the fixture's teardown


async def test_a_rejected_secret_is_reported_without_the_secret(servers):
    authority, dataverse = servers
    async with new_session(None) as session:
        client = client_for(session, authority, dataverse, secret="wrong-secret")
        with pytest.raises(HttpError) as caught:
            await client.get_json(f"{dataverse.url}/api/data/v9.2/accounts")
    assert "AADSTS7000215" in str(caught.value) and "wrong-secret" not in str(caught.value)


def test_retry_after_forms():
    assert retry_after_seconds("2") == 2.0
    assert retry_after_seconds("100000") == 300.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    in_three = dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=3)
    assert 1.0 <= retry_after_seconds(in_three.strftime("%a, %d %b %Y %H:%M:%S GMT")) <= 3.0


def self_signed(tmp_path) -> tuple[ssl.SSLContext, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "relstream test CA")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "ca.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return server, str(cert_path)


async def test_ca_bundle_is_trusted_for_https(tmp_path):
    server_context, bundle = self_signed(tmp_path)
    authority = await FakeAuthority(TENANT, CLIENT_ID, CLIENT_SECRET).start(server_context)
    try:
        assert authority.url.startswith("https://")
        scope = "https://org.example/.default"
        async with new_session(bundle) as session:
            assert await TokenSource(session, FAST, authority.url, TENANT, CLIENT_ID, CLIENT_SECRET, scope).token()
        async with new_session(None) as session:
            with pytest.raises(HttpError, match="ClientConnectorCertificateError"):
                await TokenSource(session, FAST, authority.url, TENANT, CLIENT_ID, CLIENT_SECRET, scope).token()
    finally:
        await authority.close()


async def test_delta_pages_follow_next_links_resume_and_restart_on_410(servers):
    authority, dataverse = servers
    initial = with_query(f"{dataverse.url}/api/data/v9.2/accounts", {"$select": "name"})
    headers = {"Prefer": "odata.track-changes,odata.maxpagesize=2"}
    async with new_session(None) as session:
        client = client_for(session, authority, dataverse)
        pages = [page async for page in delta_pages(client, "accounts", initial, None, headers)]
        assert [len(p.rows) for p in pages] == [2, 2, 1]
        assert [bool(p.resume["next"]) for p in pages] == [True, True, False]
        assert pages[-1].resume["delta"].startswith(f"{dataverse.url}/api/data/v9.2/accounts?")
        resumed = [p async for p in delta_pages(client, "accounts", initial, pages[0].resume, headers)]
        assert [r["accountid"] for p in resumed for r in p.rows] == ["a-2", "a-3", "a-4"]
        dataverse.update("accounts", "a-1", name="Renamed")
        dataverse.delete("accounts", "a-4")
        changes = [r async for p in delta_pages(client, "accounts", initial, pages[-1].resume, headers) for r in p.rows]
        assert [(r.get("accountid"), r.get("name"), r.get("reason")) for r in changes] == [
            ("a-1", "Renamed", None), (None, None, "deleted")]
        dataverse.inject("deltatoken", 410)
        again = [r async for p in delta_pages(client, "accounts", initial, pages[-1].resume, headers) for r in p.rows]
        assert sorted(r["accountid"] for r in again) == ["a-0", "a-1", "a-2", "a-3"]
