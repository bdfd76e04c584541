"""The dashboard in a real browser (Debian's chromium via Playwright) over the real API and Redis.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from api_tokens import TOKENS
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TYPE_LABELS = {"email": "E-mail", "meeting": "Meeting", "phone_call": "Phone call"}

@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # never skipped: `make test` installs Debian's chromium (scripts/system-deps.sh)
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run scripts/system-deps.sh (apt-get install -y chromium)"
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser: Browser, url: str, token: str | None = "full", width: int = 1280) -> tuple[Page, list[str]]:
    """A page with the token already in sessionStorage, collecting console errors and failed requests."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    problems: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url}") if "/kpis/stream" not in r.url else None)
    if token:
        page.add_init_script(f"sessionStorage.setItem('relstream.token', {orjson.dumps(TOKENS[token][0]).decode()})")
    page.goto(url)
    return page, problems


def rows(page: Page, table_name: str) -> list[list[str]]:
    table = page.get_by_role("table", name=table_name)
    return [
        [cell.strip() for cell in row.locator("th, td").all_text_contents()] for row in table.locator("tbody tr").all()
    ]


def widget(page: Page, key: str):
    return page.locator(f"#w-{key}")


def test_opportunity_page_draws_every_widget_with_the_right_numbers(browser, api_url, filled_redis):
    document = filled_redis.documents["opportunity:o-000"]
    widgets = document["widgets"]
    page, problems = open_page(browser, api_url + "/ui/opportunity/o-000")

    health = widgets["relationship_health"]
    expect(widget(page, "relationship_health").locator(".score")).to_have_text(str(health["score"]))  # 78
    expect(widget(page, "relationship_health").locator(".badge")).to_have_text("Good")
    expect(widget(page, "relationship_health").locator(".trend")).to_contain_text("Declining")
    expect(widget(page, "relationship_health")).to_contain_text(health["last_interaction"]["subject"])  # subjects scope
    expect(page.get_by_role("heading", level=1)).to_have_text("Deal 0 for a-001")

    sections = page.locator("section.widget")
    assert sorted(s.get_attribute("id") for s in sections.all()) == sorted(f"w-{k}" for k in widgets)
    for section in sections.all():
        expect(section.locator(".as-of")).to_have_text("As of 20 Nov 2026, 12:00 UTC")
    assert page.locator("canvas[role=img][aria-label]").count() >= 7

    interactions = widgets["customer_interactions"]
    assert rows(page, "Customer interactions by initiator") == [
        [TYPE_LABELS[t], str(interactions[t]["by_us"]), str(interactions[t]["by_them"])] for t in TYPE_LABELS
    ]
    assert rows(page, "E-mails sent and received") == [
        ["Sent by us", str(interactions["email"]["by_us"])],
        ["Received from them", str(interactions["email"]["by_them"])],
    ]
    expect(widget(page, "email_ratio").locator(".stats")).to_contain_text("1.00")

    for key in ("most_contacted", "most_contacted_by"):
        cards = widget(page, key).locator(".person")
        assert cards.locator(".name").all_text_contents() == [p["name"] for p in widgets[key]]
        assert [re.sub(r"\D", "", c) for c in cards.locator(".count").all_text_contents()] == [
            str(p["count"]) for p in widgets[key]
        ]
        expect(cards.first.locator(".modes")).to_contain_text(f"{widgets[key][0]['by_type']['email']} e-mails")

    days = [d for d in widgets["relationship_activities"] if any(v for k, v in d.items() if k != "day")]
    activity_rows = rows(page, "Relationship activities per day (days without activity omitted)")
    assert len(activity_rows) == len(days)
    assert sum(int(n) for row in activity_rows for n in row[1:]) == sum(
        v for d in days for k, v in d.items() if k != "day"
    )

    engagement = widgets["email_engagement"]
    assert rows(page, "E-mail engagement funnel")[:2] == [
        ["Tracked", str(engagement["tracked"]), ""],
        ["Opened", str(engagement["opened"]), f"{round(engagement['open_rate'] * 100)}%"],
    ]
    expect(widget(page, "time_spent").locator(".stats")).to_contain_text(
        f"{widgets['time_spent']['by_us_hours']:.2f} h"
    )
    response = widgets["response_time"]["by_us"]
    assert rows(page, "Response time")[0][:3] == ["By us", str(response["responded"]), str(response["received"])]
    deals = rows(page, "Similar won deals")
    assert [d[:3] for d in deals] == [
        [d["name"], f"{d['similarity']:.2f}", str(d["activities"])] for d in widgets["similar_won_deals"]
    ]
    expect(widget(page, "overview")).to_contain_text(widgets["overview"]["highlights"][0])

    # drill-down by keyboard: the e-mail widgets list the e-mails behind them
    summary = widget(page, "email_ratio").get_by_text("Contributing activities")
    summary.focus()
    page.keyboard.press("Enter")
    emails = [
        a for a in filled_redis.activities["opportunity:o-000"] if a["type"] == "email" and a["state"] == "completed"
    ]
    expect(widget(page, "email_ratio").locator(".drill-body tbody tr")).to_have_count(len(emails))
    expect(widget(page, "email_ratio").locator(".drill-note")).to_have_text(
        f"{len(emails)} of the latest {len(filled_redis.activities['opportunity:o-000'])} activities of this record."
    )

    page.screenshot(path=ARTIFACTS / "dashboard-opportunity-o-000.png", full_page=True)
    assert problems == []
    page.close()


def test_contact_page_is_readable_at_360px(browser, api_url, filled_redis):
    widgets = filled_redis.documents["contact:c001-001"]["widgets"]
    page, problems = open_page(browser, api_url + "/ui/contact/c001-001", token="reader", width=360)
    expect(widget(page, "relationship_health").locator(".score")).to_have_text(
        str(widgets["relationship_health"]["score"])
    )
    known = widget(page, "who_knows_whom").locator(".person .name")
    expect(known).to_have_text([p["name"] for p in widgets["who_knows_whom"]])
    expect(widget(page, "similar_won_deals")).to_have_count(0)  # opportunities only
    assert "email 263" not in widget(page, "relationship_health").inner_text()  # reader: no subjects
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    page.screenshot(path=ARTIFACTS / "dashboard-contact-c001-001-360px.png", full_page=True)
    assert problems == []
    page.close()


def test_record_page_follows_live_updates(browser, api_url, filled_redis, redis_client):
    key = filled_redis.settings.key("kpi", "opportunity", "o-browser")
    document = copy.deepcopy(filled_redis.documents["opportunity:o-000"])
    document["entity"]["id"] = "o-browser"
    redis_client.set(key, orjson.dumps(document))
    page, problems = open_page(browser, api_url + "/ui/opportunity/o-browser")
    score = widget(page, "relationship_health").locator(".score")
    expect(score).to_have_text("78")
    expect(page.locator("#live")).to_contain_text("live")

    document["computed_at"] = "2026-11-20T12:00:01Z"
    document["widgets"]["relationship_health"].update(score=35, status="poor")
    redis_client.set(key, orjson.dumps(document))
    expect(score).to_have_text("35", timeout=5000)
    expect(widget(page, "relationship_health").locator(".badge")).to_have_text("Poor")

    redis_client.delete(key)
    expect(page.get_by_role("alert")).to_contain_text("no longer has KPIs", timeout=5000)
    assert problems == []
    page.close()


def test_pipeline_page_filters_by_status_and_links_to_records(browser, api_url, filled_redis):
    poor = sorted(
        (d["relationship_health"]["score"], k.split(":")[1])
        for k, d in filled_redis.expected["documents"].items()
        if k.startswith("contact:") and d["relationship_health"]["status"] == "poor"
    )
    page, problems = open_page(browser, api_url + "/ui/contact")
    page.get_by_label("Status").select_option("poor")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("tbody tr")).to_have_count(len(poor))
    expect(page.locator(".result-count")).to_have_text(f"{len(poor)} of {len(poor)} records with a health score")
    assert page.locator("tbody td.num").all_text_contents() == [str(score) for score, _ in poor]
    page.screenshot(path=ARTIFACTS / "dashboard-pipeline-contacts-poor.png", full_page=True)
    page.locator("tbody a").first.click()
    expect(page).to_have_url(re.compile(rf"/ui/contact/{poor[0][1]}$"))
    expect(widget(page, "relationship_health").locator(".score")).to_have_text(str(poor[0][0]))
    assert problems == []
    page.close()


def test_home_lists_the_four_types_and_asks_for_a_token(browser, api_url):
    page, _ = open_page(browser, api_url + "/ui/", token=None)
    token = page.get_by_label("Token")
    expect(token).to_be_focused()
    token.fill(TOKENS["reader"][0])
    page.keyboard.press("Enter")
    expect(page.locator(".types a")).to_have_count(4)
    expect(page.get_by_role("link", name=re.compile("^Opportunities 4 with a health score"))).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.close()
