"""`relstream connect dynamics`: Dataverse tables → `{prefix}.records` and `{prefix}.activities`.

Tables are read in dependency order (records before the activities that look them up; an
opportunity's parts before the opportunity) with `Prefer: odata.track-changes`, one delta link per
table. Change tracking allows no `$expand`, so the activity parties of each page are fetched in one
extra `activityparties` query. State namespaces besides the sync's own: `rows` (table:row id → event
id, which also tells deletes what was published), `accounts_of` (contact/lead/opportunity → account).
"""
from __future__ import annotations

from collections import defaultdict
from contextlib import asynccontextmanager
from typing import AsyncIterator, Awaitable, Callable

from relstream.connectors import dataverse_map as dv
from relstream.connectors.config import ConnectorConfig
from relstream.connectors.http import with_query
from relstream.connectors.identity import InternalDomains, normalize_address
from relstream.connectors.mapping import activity_delete, record_delete
from relstream.connectors.opportunities import OpportunityJoin
from relstream.connectors.publisher import Message
from relstream.connectors.sync import Sync, runtime
from relstream.settings import Settings

API = "/api/data/v9.2/"
HEADERS = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}
PARTY_BATCH = 50  # activity ids per activityparties query: keeps the URL far below Dataverse's limit


class Dynamics:
    def __init__(self, config: ConnectorConfig, sync: Sync):
        self._config, self._sync, self._state = config, sync, sync.state
        self._api = config.dataverse_url + API
        annotations = f'odata.maxpagesize={config.page_size},odata.include-annotations="*"'
        self._read_headers = {"Prefer": annotations}
        self._delta_headers = {"Prefer": "odata.track-changes," + annotations}
        self._join = OpportunityJoin(self._state)
        self._directory: dv.Directory | None = None  # needs the users and currencies: built by run()

    async def run(self) -> None:
        self._directory = dv.Directory(
            domains=InternalDomains(self._config.internal_domains),
            users=await self._users(),
            currencies=await self._currencies(),
            account_of=self._state.section("accounts_of"),
            email_event=lambda activityid: self._state.get("rows", f"emails:{activityid}"),
        )
        handlers: dict[str, Callable[[list[dict]], Awaitable[list[Message]]]] = {
            "accounts": self._records("accounts"),
            "contacts": self._records("contacts"),
            "leads": self._records("leads"),
            "connections": self._parts("connections"),
            "opportunityproducts": self._parts("opportunityproducts"),
            "opportunities": self._opportunities,
            "emails": self._activities("emails"),
            "appointments": self._activities("appointments"),
            "phonecalls": self._activities("phonecalls"),
            "interactionforemails": self._interactions,
        }
        for entity_set, handle in handlers.items():
            _, columns = dv.TABLES[entity_set]
            url = with_query(self._api + entity_set, {"$select": f"{columns},versionnumber"})
            await self._sync.stream(entity_set, url, self._delta_headers, handle)
        self._sync.progress.done()

    # --- plain (untracked) queries: users and currencies in full each sync, parties per page ------

    async def _read_all(self, entity_set: str, columns: str, params: dict[str, str] | None = None) -> list[dict]:
        url = with_query(self._api + entity_set, {"$select": columns, **(params or {})})
        rows: list[dict] = []
        while url:
            body = await self._sync.client.get_json(url, self._read_headers)
            rows.extend(body.get("value") or [])
            url = body.get("@odata.nextLink")
        return rows

    async def _users(self) -> dict[str, dict]:
        rows = await self._read_all("systemusers", "internalemailaddress,fullname")
        return {row["systemuserid"].lower(): {"email": normalize_address(row.get("internalemailaddress")),
                                              "name": row.get("fullname")} for row in rows}

    async def _currencies(self) -> dict[str, str]:
        rows = await self._read_all("transactioncurrencies", "isocurrencycode")
        return {row["transactioncurrencyid"].lower(): row.get("isocurrencycode") for row in rows}

    async def _parties(self, activity_ids: list[str]) -> dict[str, list[dict]]:
        found: dict[str, list[dict]] = defaultdict(list)
        for start in range(0, len(activity_ids), PARTY_BATCH):
            ids = ",".join(f"'{i}'" for i in activity_ids[start:start + PARTY_BATCH])
            condition = f"Microsoft.Dynamics.CRM.In(PropertyName='activityid',PropertyValues=[{ids}])"
            for row in await self._read_all("activityparties", dv.PARTY_COLUMNS, {"$filter": condition}):
                activity, _ = dv.lookup(row, "activityid")
                found[activity].append(row)
        return found

    # --- page handlers --------------------------------------------------------------------------

    def _key_of(self, entity_set: str) -> Callable[[dict], str]:
        primary = dv.TABLES[entity_set][0]
        return lambda row: str(row.get(primary) or row.get("id") or "")

    def _opportunity_messages(self) -> list[Message]:
        return [self._sync.upsert(self._sync.topics.records, event) for event in self._join.take_events()]

    def _delete_record(self, entity_set: str, row_id: str) -> list[Message]:
        row_key = f"{entity_set}:{row_id}"
        if self._state.get("rows", row_key) is None:
            return []
        self._state.drop("rows", row_key)
        self._state.drop("accounts_of", row_id)
        if entity_set == "accounts":
            self._join.drop_industry(row_id)
        elif entity_set == "opportunities":
            self._join.drop_base(row_id)
        record_type = dv.RECORD_TYPES[entity_set]
        return [self._sync.delete(self._sync.topics.records, row_id,
                                  lambda version: record_delete(record_type, row_id, version))]

    def _records(self, entity_set: str) -> Callable[[list[dict]], Awaitable[list[Message]]]:
        def one(row: dict) -> list[Message]:
            if dv.is_deleted(row):
                return self._delete_record(entity_set, dv.deleted_id(row))
            event = dv.record_event(entity_set, row, self._directory)
            if entity_set == "accounts":
                self._join.set_industry(event["id"], event["industry"])
            else:
                self._state.put("accounts_of", event["id"], event["account_id"])
            self._state.put("rows", f"{entity_set}:{event['id']}", event["id"])
            return [self._sync.upsert(self._sync.topics.records, event)]

        async def handle(rows: list[dict]) -> list[Message]:
            return self._sync.each_row(rows, self._key_of(entity_set), one) + self._opportunity_messages()
        return handle

    def _parts(self, entity_set: str) -> Callable[[list[dict]], Awaitable[list[Message]]]:
        kind = "stakeholder" if entity_set == "connections" else "product"

        def one(row: dict) -> list[Message]:
            if dv.is_deleted(row):
                self._join.drop_part(f"{entity_set}:{dv.deleted_id(row)}")
                return []
            key = f"{entity_set}:{dv.row_id(row, dv.TABLES[entity_set][0])}"
            link = dv.stakeholder_link(row) if kind == "stakeholder" else dv.product_link(row)
            if link is None:
                self._join.drop_part(key)
            else:
                self._join.set_part(key, link[0], kind, link[1])
            return []

        async def handle(rows: list[dict]) -> list[Message]:
            return self._sync.each_row(rows, self._key_of(entity_set), one) + self._opportunity_messages()
        return handle

    async def _opportunities(self, rows: list[dict]) -> list[Message]:
        def one(row: dict) -> list[Message]:
            if dv.is_deleted(row):
                return self._delete_record("opportunities", dv.deleted_id(row))
            opportunity = dv.row_id(row, "opportunityid")
            base = dv.opportunity_base(row, self._directory)
            self._join.set_base(opportunity, base)
            self._state.put("accounts_of", opportunity, base["account_id"])
            self._state.put("rows", f"opportunities:{opportunity}", opportunity)
            return []
        return self._sync.each_row(rows, self._key_of("opportunities"), one) + self._opportunity_messages()

    def _delete_activity(self, row_key: str) -> list[Message]:
        event_id = self._state.get("rows", row_key)
        if event_id is None:
            return []
        self._state.drop("rows", row_key)
        return [self._sync.delete(self._sync.topics.activities, event_id,
                                  lambda version: activity_delete(event_id, dv.SOURCE, version))]

    def _activities(self, entity_set: str) -> Callable[[list[dict]], Awaitable[list[Message]]]:
        async def handle(rows: list[dict]) -> list[Message]:
            live = [row["activityid"].lower() for row in rows
                    if not dv.is_deleted(row) and isinstance(row.get("activityid"), str)]
            parties = await self._parties(live)

            def one(row: dict) -> list[Message]:
                if dv.is_deleted(row):
                    return self._delete_activity(f"{entity_set}:{dv.deleted_id(row)}")
                activity_id = dv.row_id(row, "activityid")
                event = dv.activity_event(entity_set, row, parties.get(activity_id, []), self._directory)
                row_key = f"{entity_set}:{activity_id}"
                messages = []
                if self._state.get("rows", row_key) not in (None, event["id"]):
                    messages = self._delete_activity(row_key)  # a draft got its internet message id
                self._state.put("rows", row_key, event["id"])
                return messages + [self._sync.upsert(self._sync.topics.activities, event)]
            return self._sync.each_row(rows, self._key_of(entity_set), one)
        return handle

    async def _interactions(self, rows: list[dict]) -> list[Message]:
        def one(row: dict) -> list[Message]:
            event = None if dv.is_deleted(row) else dv.interaction_event(row, self._directory)
            if event is None:
                return []
            return [Message(self._sync.topics.activities, event["email_id"], event)]
        return self._sync.each_row(rows, self._key_of("interactionforemails"), one)


@asynccontextmanager
async def open_connector(config: ConnectorConfig, settings: Settings) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """Yields `sync_once()`; the HTTP session, token and Kafka producer live as long as the context."""
    config.require("dataverse_url", "tenant_id", "client_id", "client_secret")
    async with runtime(config, settings, dv.SOURCE, f"{config.dataverse_url}/.default", HEADERS) as rt:
        async def sync_once() -> None:
            await Dynamics(config, await rt.new_sync(dv.SOURCE)).run()
        yield sync_once
