// Pipeline page: the records of one type by relationship health, filterable by status, paged by cursor.
import { get, ROOT } from "./api.js";
import { h, RECORD_PLURAL, STATUS_LABEL, time, TREND } from "./dom.js";

export async function pipelinePage(main, type) {
  const params = new URLSearchParams(location.search);
  const status = params.get("status") || "";
  const sort = params.get("sort") || "health";
  const select = (name, label, value, options) => h("label", {}, label,
    h("select", { name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));

  const rows = h("tbody", {});
  const count = h("p", { role: "status", class: "result-count" });
  const more = h("button", { type: "button", class: "primary", hidden: true }, "Show more");
  main.replaceChildren(
    h("h1", {}, `${RECORD_PLURAL[type]} by relationship health`),
    h("form", { class: "filters", method: "get", action: `${ROOT}/ui/${type}` },
      select("status", "Status", status, [["", "All statuses"], ["poor", "Poor"], ["fair", "Fair"], ["good", "Good"]]),
      select("sort", "Order", sort, [["health", "Weakest first"], ["-health", "Strongest first"]]),
      h("button", { type: "submit", class: "primary" }, "Apply")),
    count,
    h("div", { class: "table-scroll" }, h("table", {},
      h("caption", { class: "visually-hidden" }, `${RECORD_PLURAL[type]} by relationship health`),
      h("thead", {}, h("tr", {}, ["Record", "Score", "Status", "Trend", "As of"].map((c, i) =>
        h("th", { scope: "col", class: i === 1 ? "num" : null }, c)))),
      rows)),
    more);

  let cursor = null;
  async function load() {
    const page = await get(`/v1/records/${type}`, { status, sort, limit: 50, cursor });
    rows.append(...page.items.map((item) => {
      const [arrow, trend] = TREND[item.trend];
      return h("tr", {},
        h("th", { scope: "row" }, h("a", { href: `${ROOT}/ui/${type}/${encodeURIComponent(item.id)}` }, item.name ?? item.id)),
        h("td", { class: "num" }, String(item.score)),
        h("td", {}, h("span", { class: `badge ${item.status}` }, STATUS_LABEL[item.status])),
        h("td", { class: "trend" }, h("span", { "aria-hidden": "true" }, `${arrow} `), trend),
        h("td", {}, time(item.as_of)));
    }));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    count.textContent = `${rows.children.length} of ${page.total} ${page.total === 1 ? "record" : "records"} with a health score`;
  }
  more.addEventListener("click", load);
  await load();
}
