"""OData delta rounds shared by Dataverse and Graph: resume point, `@odata.nextLink` paging, `@odata.deltaLink`.

After every page the caller stores `Page.resume` with that page's events, so a restart continues from
the next page (or, after the last one, from the delta link) and re-sends at most one page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import AsyncIterator

from relstream.connectors.http import ApiClient, HttpError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    resume: dict  # {"delta": link of the last completed round or None, "next": link of the next page or None}


async def delta_pages(client: ApiClient, stream: str, initial_url: str, saved: dict | None,
                      headers: dict[str, str]) -> AsyncIterator[Page]:
    """Pages of one round. An expired link (410 Gone) restarts from the initial query: a full re-read."""
    saved = saved or {}
    delta = saved.get("delta")
    url = saved.get("next") or delta or initial_url
    while True:
        try:
            body = await client.get_json(url, headers)
        except HttpError as exc:
            if exc.status != 410 or url == initial_url:
                raise
            log.warning("%s: link expired (410), re-reading everything", stream)
            delta, url = None, initial_url
            continue
        rows = body.get("value") or []
        next_link = body.get("@odata.nextLink")
        if next_link:
            yield Page(rows, {"delta": delta, "next": next_link})
            url = next_link
            continue
        delta_link = body.get("@odata.deltaLink")
        if delta_link is None:
            log.warning("%s: no delta link (change tracking off?): the next sync re-reads it all", stream)
        yield Page(rows, {"delta": delta_link, "next": None})
        return
