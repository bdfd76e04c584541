"""Shared identities: e-mail activity ids, internal domains, the address index."""
from __future__ import annotations

import hashlib

from relstream.connectors.identity import AddressIndex, InternalDomains, email_activity_id, normalize_address

DOMAINS = InternalDomains(("ourco.example",))


def test_email_activity_id_ignores_brackets_case_and_spacing():
    expected = "email-" + hashlib.sha1(b"abc.123@host.example").hexdigest()[:20]
    for raw in ["<abc.123@host.example>", " <ABC.123@Host.Example> ", "abc.123@host.example"]:
        assert email_activity_id(raw) == expected
    assert email_activity_id(None) is None and email_activity_id("  ") is None


def test_addresses_and_internal_domains():
    assert normalize_address(" SMTP:Anna@OurCo.Example ") == "anna@ourco.example"
    assert normalize_address("not an address") is None
    assert DOMAINS.is_internal("x@ourco.example") and DOMAINS.is_internal("x@eu.ourco.example")
    assert not DOMAINS.is_internal("x@notourco.example")


def record(record_id: str, version: int, emails: list[str], kind: str = "contact", op: str = "upsert") -> dict:
    return {"schema": "relstream.record.v1", "op": op, "type": kind, "id": record_id, "version": version,
            "name": f"Name {record_id}", "account_id": "a-1", "emails": emails}


def test_index_resolves_by_latest_version_and_forgets_removed_addresses():
    index = AddressIndex()
    index.apply(record("c-1", 2, ["Bob@Klant.example", "bob@home.example"]))
    index.apply(record("c-1", 1, ["stale@klant.example"]))  # older version arriving late: ignored
    index.apply(record("l-1", 1, ["dirk@prospect.example"], kind="lead"))
    index.apply({"schema": "relstream.record.v1", "op": "upsert", "type": "account", "id": "a-1", "version": 1})
    assert index.resolve("bob@klant.example", "B", DOMAINS) == {
        "id": "c-1", "side": "external", "kind": "contact", "name": "Name c-1", "email": "bob@klant.example",
        "account_id": "a-1"}
    assert index.resolve("dirk@prospect.example", None, DOMAINS)["kind"] == "lead"
    assert index.resolve("stale@klant.example", "S", DOMAINS)["id"] == "email:stale@klant.example"
    index.apply(record("c-1", 3, ["bob@klant.example"]))
    assert index.resolve("bob@home.example", None, DOMAINS)["kind"] == "unknown"
    index.apply(record("c-1", 4, [], op="delete"))
    assert index.resolve("bob@klant.example", "Bob", DOMAINS) == {
        "id": "email:bob@klant.example", "side": "external", "kind": "unknown", "name": "Bob",
        "email": "bob@klant.example", "account_id": None}
    index.apply(record("c-2", 1, ["anna@ourco.example"]))  # a contact record never turns a colleague external
    assert index.resolve("anna@ourco.example", "Anna", DOMAINS)["side"] == "internal"
