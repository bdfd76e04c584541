"""Local stand-ins for Entra ID's token endpoint, the Dataverse Web API and Microsoft Graph.

They serve the documented response shapes (see relstream/connectors/*_map.py) from in-memory tables
that tests mutate between syncs: change tracking with delta links and `$deletedEntity` rows,
`@removed` items, `$select`, `odata.maxpagesize` paging with `@odata.nextLink`, bearer tokens that
can be revoked (the next call answers 401), and injected faults such as a 429 with `Retry-After`.
"""
from __future__ import annotations

import base64
import itertools
import re
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable
from urllib.parse import quote, urlencode

import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer

GRAPH_EPOCH = datetime(2026, 11, 1, tzinfo=timezone.utc)


def _json(body: dict, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(body=orjson.dumps(body), status=status, headers=headers,
                        content_type="application/json")


def _page_size(request: web.Request, default: int) -> int:
    match = re.search(r"odata\.maxpagesize=(\d+)", request.headers.get("Prefer", ""))
    return int(match.group(1)) if match else default


def _encode(state: dict) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(state)).decode()


def _decode(token: str) -> dict:
    return orjson.loads(base64.urlsafe_b64decode(token.encode()))


@dataclass
class Fault:
    """On the next `times` requests whose path contains `path_fragment`: answer `status`, or (status None)
    run `action` first and then serve the request normally."""

    path_fragment: str
    status: int | None
    headers: dict = field(default_factory=dict)
    times: int = 1
    action: Callable[[], None] | None = None


class FakeServer:
    """An aiohttp app on 127.0.0.1:<free port>, optionally over TLS, with a request log and faults."""

    def __init__(self) -> None:
        self.app = web.Application(middlewares=[self._middleware])
        self.requests: list[tuple[str, str]] = []
        self.faults: list[Fault] = []
        self._server: TestServer | None = None

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> "FakeServer":
        self._server = TestServer(self.app, host="127.0.0.1")
        await self._server.start_server(ssl=ssl_context)
        return self

    async def close(self) -> None:
        await self._server.close()

    @property
    def url(self) -> str:
        return str(self._server.make_url("")).rstrip("/")

    def inject(self, path_fragment: str, status: int | None = None, headers: dict | None = None, times: int = 1,
               action: Callable[[], None] | None = None) -> None:
        self.faults.append(Fault(path_fragment, status, headers or {}, times, action))

    @web.middleware
    async def _middleware(self, request: web.Request, handler):
        self.requests.append((request.method, request.path_qs))
        for fault in self.faults:
            if fault.times > 0 and fault.path_fragment in request.path_qs:
                fault.times -= 1
                if fault.action:
                    fault.action()
                    break
                return _json({"error": {"code": str(fault.status), "message": "injected"}}, fault.status,
                             fault.headers)
        return await handler(request)


class FakeAuthority(FakeServer):
    """`POST /{tenant}/oauth2/v2.0/token` with the client-credentials grant."""

    def __init__(self, tenant: str, client_id: str, client_secret: str, lifetime_s: int = 3600):
        super().__init__()
        self.tenant, self.client_id, self.client_secret, self.lifetime_s = tenant, client_id, client_secret, lifetime_s
        self.tokens: dict[str, str] = {}  # token -> scope
        self.issued: list[str] = []  # scopes, in order
        self._serial = itertools.count(1)
        self.app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if request.match_info["tenant"] != self.tenant or form.get("grant_type") != "client_credentials":
            return _json({"error": "invalid_request", "error_description": "AADSTS900144: bad request"}, 400)
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return _json({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret"}, 401)
        token = f"token-{next(self._serial)}"
        self.tokens[token] = form.get("scope", "")
        self.issued.append(form.get("scope", ""))
        return _json({"token_type": "Bearer", "expires_in": self.lifetime_s, "ext_expires_in": self.lifetime_s,
                      "access_token": token})

    def revoke_all(self) -> None:
        """Every token issued so far now fails with 401, as an expired one would."""
        self.tokens.clear()

    def check(self, request: web.Request, audience: str) -> web.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if self.tokens.get(token) != f"{audience}/.default":
            return _json({"error": {"code": "InvalidAuthenticationToken", "message": "token expired"}}, 401,
                         {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return None


class FakeDataverse(FakeServer):
    """`/api/data/v9.2/{entityset}`: tables with a global row version (like SQL rowversion)."""

    API = "/api/data/v9.2/"

    def __init__(self, authority: FakeAuthority):
        super().__init__()
        self.authority = authority
        self.keys: dict[str, str] = {}
        self.tables: dict[str, dict[str, dict]] = {}
        self.deleted: dict[str, dict[str, int]] = {}  # entity set -> id -> version of the deletion
        self.change_tracked: set[str] = set()
        self._clock = itertools.count(1000)
        self.app.router.add_get(self.API + "{entity_set}", self._get)

    def table(self, entity_set: str, key: str, tracked: bool = True) -> None:
        self.keys[entity_set] = key
        self.tables.setdefault(entity_set, {})
        self.deleted.setdefault(entity_set, {})
        if tracked:
            self.change_tracked.add(entity_set)

    def upsert(self, entity_set: str, row: dict) -> dict:
        """Store (a copy of) the row under a new version number; returns the stored row."""
        stored = {**row, "versionnumber": next(self._clock)}
        row_id = stored[self.keys[entity_set]]
        self.tables[entity_set][row_id] = stored
        self.deleted[entity_set].pop(row_id, None)
        return stored

    def update(self, entity_set: str, row_id: str, **changes) -> dict:
        return self.upsert(entity_set, {**self.tables[entity_set][row_id], **changes})

    def delete(self, entity_set: str, row_id: str) -> None:
        del self.tables[entity_set][row_id]
        self.deleted[entity_set][row_id] = next(self._clock)

    @property
    def version(self) -> int:
        """The latest version handed out (what a delta token taken now would say)."""
        return max([0] + [r["versionnumber"] for t in self.tables.values() for r in t.values()]
                   + [v for d in self.deleted.values() for v in d.values()])

    def _project(self, entity_set: str, row: dict, select: list[str] | None) -> dict:
        if select is None:
            return dict(row)
        wanted = set(select) | {self.keys[entity_set]}
        shown = {k: v for k, v in row.items() if k in wanted or k.split("@")[0] in wanted}
        return {"@odata.etag": f'W/"{row["versionnumber"]}"', **shown}

    async def _get(self, request: web.Request) -> web.Response:
        denied = self.authority.check(request, self.url)
        if denied:
            return denied
        entity_set = request.match_info["entity_set"]
        if entity_set not in self.tables:
            message = f"Resource not found for the segment '{entity_set}'."
            return _json({"error": {"code": "0x80060888", "message": message}}, 404)
        query = request.query
        select = query["$select"].split(",") if "$select" in query else None
        base = f"{self.url}{self.API}{entity_set}"
        size = _page_size(request, 5000)
        tracking = "odata.track-changes" in request.headers.get("Prefer", "") or "$deltatoken" in query
        if tracking and ("$filter" in query or "$expand" in query or "$top" in query):
            message = "The \"$filter\" query parameter isn't supported when Change Tracking is enabled."
            return _json({"error": {"code": "0x80048d19", "message": message}}, 400)
        if "$skiptoken" in query:
            state = _decode(query["$skiptoken"])
        else:
            since = int(query["$deltatoken"].split("!")[0]) if "$deltatoken" in query else 0
            state = {"since": since, "upto": self.version, "offset": 0, "tracking": tracking,
                     "filter": query.get("$filter")}
        items = self._items(entity_set, state, select)
        page = items[state["offset"]:state["offset"] + size]
        context = f"{self.url}{self.API}$metadata#{entity_set}" + ("/$delta" if state["since"] else "")
        body: dict = {"@odata.context": context, "value": page}
        keep = {"$select": query["$select"]} if select else {}
        if state["offset"] + size < len(items):
            body["@odata.nextLink"] = base + "?" + urlencode(
                {**keep, "$skiptoken": _encode({**state, "offset": state["offset"] + size})}, quote_via=quote)
        elif state["tracking"] and entity_set in self.change_tracked:
            token = f"{state['upto']}!11/02/2026 09:30:00"
            body["@odata.deltaLink"] = base + "?" + urlencode({**keep, "$deltatoken": token}, quote_via=quote)
        headers = {"Preference-Applied": "odata.track-changes"} if state["tracking"] else None
        return _json(body, headers=headers)

    def _items(self, entity_set: str, state: dict, select: list[str] | None) -> list[dict]:
        since, upto = state["since"], state["upto"]
        rows = sorted((r for r in self.tables[entity_set].values() if since < r["versionnumber"] <= upto),
                      key=lambda r: r["versionnumber"])
        if state["filter"]:
            match = re.match(r"Microsoft\.Dynamics\.CRM\.In\(PropertyName='(\w+)',PropertyValues=\[(.*)\]\)$",
                             state["filter"])
            column, values = match.group(1), set(re.findall(r"'([^']*)'", match.group(2)))
            rows = [r for r in rows if (r.get(column) or r.get(f"_{column}_value")) in values]
        items = [self._project(entity_set, r, select) for r in rows]
        if since:  # a delta round also reports deletions, after the new and changed rows
            items += [{"@odata.context": f"{self.url}{self.API}$metadata#{entity_set}/$deletedEntity",
                       "id": row_id, "reason": "deleted"}
                      for row_id, version in sorted(self.deleted[entity_set].items(), key=lambda kv: kv[1])
                      if since < version <= upto]
        return items


class FakeGraph(FakeServer):
    """`/v1.0/users/{mailbox}/mailFolders/{folder}/messages/delta` and `/v1.0/users/{mailbox}/calendarView/delta`."""

    def __init__(self, authority: FakeAuthority):
        super().__init__()
        self.authority = authority
        # collection ("messages:{mailbox}:{folder}" | "events:{mailbox}") -> id -> (change, item)
        self.items: dict[str, dict[str, tuple[int, dict]]] = {}
        self.removed: dict[str, dict[str, int]] = {}
        self._clock = itertools.count(1)
        self.app.router.add_get("/v1.0/users/{mailbox}/mailFolders/{folder}/messages/delta", self._messages)
        self.app.router.add_get("/v1.0/users/{mailbox}/calendarView/delta", self._events)

    def put(self, collection: str, item: dict) -> dict:
        """Store the item as changed now; `lastModifiedDateTime` = GRAPH_EPOCH + change seconds."""
        change = next(self._clock)
        modified = GRAPH_EPOCH + timedelta(seconds=change)
        stored = {**item, "lastModifiedDateTime": modified.strftime("%Y-%m-%dT%H:%M:%SZ")}
        self.items.setdefault(collection, {})[item["id"]] = (change, stored)
        self.removed.setdefault(collection, {}).pop(item["id"], None)
        return stored

    def remove(self, collection: str, item_id: str) -> None:
        del self.items[collection][item_id]
        self.removed.setdefault(collection, {})[item_id] = next(self._clock)

    async def _messages(self, request: web.Request) -> web.Response:
        mailbox, folder = request.match_info["mailbox"], request.match_info["folder"]
        return self._delta(request, f"messages:{mailbox}:{folder}", "message")

    async def _events(self, request: web.Request) -> web.Response:
        if not {"startDateTime", "endDateTime", "$skiptoken", "$deltatoken"} & set(request.query):
            message = ("This request requires a time window specified by the query string parameters "
                       "StartDateTime and EndDateTime.")
            return _json({"error": {"code": "ErrorInvalidParameter", "message": message}}, 400)
        if "$select" in request.query:
            return _json({"error": {"code": "ErrorInvalidUrlQuery", "message": "$select is not supported"}}, 400)
        return self._delta(request, f"events:{request.match_info['mailbox']}", "event")

    def _delta(self, request: web.Request, collection: str, kind: str) -> web.Response:
        denied = self.authority.check(request, self.url)
        if denied:
            return denied
        query = request.query
        if "$skiptoken" in query:
            state = _decode(query["$skiptoken"])
        else:
            since = _decode(query["$deltatoken"])["upto"] if "$deltatoken" in query else 0
            state = {"since": since, "upto": max([0] + [c for c, _ in self.items.get(collection, {}).values()]
                                                 + list(self.removed.get(collection, {}).values())),
                     "offset": 0, "select": query.get("$select")}
        since, upto = state["since"], state["upto"]
        changed = sorted(((c, item) for c, item in self.items.get(collection, {}).values() if since < c <= upto),
                         key=lambda pair: pair[0])
        select = state["select"].split(",") if state["select"] else None
        values = [{"@odata.type": f"#microsoft.graph.{kind}", "id": item["id"],
                   **({k: v for k, v in item.items() if select is None or k in select})}
                  for _, item in changed]
        if since:
            values += [{"@odata.type": f"#microsoft.graph.{kind}", "id": item_id, "@removed": {"reason": "deleted"}}
                       for item_id, change in self.removed.get(collection, {}).items() if since < change <= upto]
        size = _page_size(request, 10)
        page = values[state["offset"]:state["offset"] + size]
        base = f"{self.url}{request.path}"
        body: dict = {"@odata.context": f"{self.url}/v1.0/$metadata#Collection({kind})", "value": page}
        if state["offset"] + size < len(values):
            body["@odata.nextLink"] = f"{base}?$skiptoken={_encode({**state, 'offset': state['offset'] + size})}"
        else:
            body["@odata.deltaLink"] = f"{base}?$deltatoken={_encode({'upto': upto})}"
        return _json(body)
