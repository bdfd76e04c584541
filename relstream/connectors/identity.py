"""Identities shared by both connectors (SPEC §7): e-mail activity ids, addresses, internal domains,
and the address → contact/lead index the Exchange connector builds from the published records."""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_MESSAGE_ID = re.compile(r"<([^<>]+)>")


def normalize_message_id(raw: object) -> str | None:
    """`<AbC@host>`, ` abc@host ` → `abc@host`: Dataverse and Graph differ in brackets, case and spacing."""
    if not isinstance(raw, str):
        return None
    match = _MESSAGE_ID.search(raw)
    value = (match.group(1) if match else raw).strip().lower()
    return value or None


def email_activity_id(internet_message_id: object) -> str | None:
    """The activity id of an e-mail, identical from every connector that knows its internet message id."""
    normalized = normalize_message_id(internet_message_id)
    if normalized is None:
        return None
    return "email-" + hashlib.sha1(normalized.encode("utf-8")).hexdigest()[:20]


def normalize_address(raw: object) -> str | None:
    if not isinstance(raw, str):
        return None
    value = raw.strip().lower()
    if value.startswith("smtp:"):
        value = value[5:]
    return value if "@" in value else None


@dataclass(frozen=True)
class InternalDomains:
    """Our organisation's mail domains; subdomains count (`eu.contoso.com` under `contoso.com`)."""

    domains: tuple[str, ...]

    def is_internal(self, address: str) -> bool:
        domain = address.rsplit("@", 1)[-1]
        return any(domain == d or domain.endswith("." + d) for d in self.domains)


def party(party_id: str, side: str, kind: str, name: str | None = None, email: str | None = None,
          account_id: str | None = None) -> dict:
    return {"id": party_id, "side": side, "kind": kind, "name": name, "email": email, "account_id": account_id}


def address_party(address: str, name: str | None, domains: InternalDomains) -> dict:
    """A party known only by its address: an internal user, or an unknown external person."""
    if domains.is_internal(address):
        return party(address, "internal", "user", name, address)
    return party("email:" + address, "external", "unknown", name, address)


class AddressIndex:
    """Latest contact/lead record per id (by version), and each of their addresses → that record."""

    def __init__(self) -> None:
        self._records: dict[str, dict] = {}
        self._by_address: dict[str, str] = {}

    def apply(self, event: dict) -> None:
        record_id, version = event.get("id"), event.get("version")
        if event.get("type") not in ("contact", "lead") or not isinstance(record_id, str):
            return
        if not isinstance(version, int):
            return
        known = self._records.get(record_id)
        if known is not None and known["version"] >= version:
            return
        old = {normalize_address(a) for a in known.get("emails") or []} if known else set()
        self._records[record_id] = event
        new = {normalize_address(a) for a in event.get("emails") or []} if event.get("op") == "upsert" else set()
        for address in old - new:
            if self._by_address.get(address) == record_id:
                del self._by_address[address]
        for address in new - {None}:
            self._by_address[address] = record_id

    def resolve(self, address: str, name: str | None, domains: InternalDomains) -> dict:
        record_id = self._by_address.get(address)
        if record_id is None or domains.is_internal(address):
            return address_party(address, name, domains)
        record = self._records[record_id]
        return party(record_id, "external", record["type"], record.get("name") or name, address,
                     record.get("account_id"))
