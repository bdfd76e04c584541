// Record page: every widget of the document, each with its definition, "as of" and a drill-down to the
// activities behind it; redrawn live when the worker writes a new document.
import { follow, get, recordPath, ROOT } from "./api.js";
import { h, icon, RECORD_LABEL, RECORD_PLURAL, table, time, TYPE_LABEL } from "./dom.js";
import { WIDGETS } from "./widgets.js";

export async function recordPage(main, type, id, setLive) {
  const path = recordPath(type, id);
  const document_ = await get(`${path}/kpis`);
  const title = h("h1", {});
  const subtitle = h("p", { class: "subtitle" });
  const grid = h("div", { class: "widgets" });
  const banner = h("div", { role: "alert" });
  main.replaceChildren(
    h("nav", { "aria-label": "Breadcrumb" }, h("a", { href: `${ROOT}/ui/${type}` }, `← ${RECORD_PLURAL[type]}`)),
    title, subtitle, banner, grid);

  let activities = null;  // fetched on the first drill-down, dropped when the document changes
  const loadActivities = () => (activities ??= get(`${path}/activities`, { limit: 200 }));
  const sections = new Map();  // widget -> { node, charts, json }

  function show(doc) {
    const name = doc.entity.name ?? doc.entity.id;
    title.textContent = name;
    document.title = `${name} · relstream`;
    subtitle.replaceChildren(`${RECORD_LABEL[type]} · ${doc.entity.id} · computed `, time(doc.computed_at));
    activities = null;
    for (const [key, widget] of Object.entries(WIDGETS)) {
      const data = doc.widgets[key];
      const current = sections.get(key);
      if (data === undefined) {  // does not apply (or no longer): drop it
        if (current) { current.charts.forEach((c) => c.destroy()); current.node.remove(); sections.delete(key); }
        continue;
      }
      const json = JSON.stringify(data);
      if (current && current.json === json) {  // unchanged numbers: only the time stamp moves
        current.node.querySelector(".as-of").replaceChildren("As of ", time(doc.as_of));
        continue;
      }
      const next = section(key, widget, data, doc, loadActivities);
      next.json = json;
      if (current) {
        current.charts.forEach((c) => c.destroy());
        current.node.replaceWith(next.node);
      } else {
        grid.append(next.node);  // put in page order by reorder() below
      }
      sections.set(key, next);
    }
    reorder(grid, sections);
  }

  show(document_);
  setLive("connecting…");
  follow(type, id, {
    onDocument: (doc) => { show(doc); setLive(`live · updated ${new Date().toLocaleTimeString("en-GB")}`); },
    onDeleted: () => { banner.replaceChildren(h("p", { class: "notice" }, "This record no longer has KPIs.")); setLive("stopped"); },
    onState: setLive,
  });
}

function reorder(grid, sections) {
  for (const key of Object.keys(WIDGETS)) if (sections.has(key)) grid.append(sections.get(key).node);
}

function section(key, widget, data, doc, loadActivities) {
  const charts = [];
  const heading = `h-${key}`;
  const footer = h("footer", {}, h("p", { class: "as-of" }, "As of ", time(doc.as_of)));
  if (widget.drill) footer.append(drillDown(widget, doc, loadActivities));
  const node = h("section", { class: `widget${widget.wide ? " wide" : ""}`, id: `w-${key}`, "aria-labelledby": heading },
    h("header", {}, h("h2", { id: heading }, widget.title), h("p", { class: "definition" }, widget.definition)),
    h("div", { class: "body" }, widget.render(data, doc, charts)),
    footer);
  return { node, charts };
}

function drillDown(widget, doc, loadActivities) {
  const body = h("div", { class: "drill-body" }, "Loading…");
  const details = h("details", { class: "drill" }, h("summary", {}, "Contributing activities"), body);
  details.addEventListener("toggle", async () => {
    if (!details.open) return;
    try {
      const page = await loadActivities();
      const rows = page.items.filter((a) => widget.drill(a, doc));
      body.replaceChildren(
        h("p", { class: "drill-note" }, `${rows.length} of the latest ${page.items.length} activities of this record.`),
        rows.length ? table("Contributing activities", [{ label: "When" }, { label: "Activity" }, { label: "Subject" }],
          rows.map((a) => [time(a.occurred_at),
            [icon(a.type), ` ${TYPE_LABEL[a.type]} by ${a.initiator}`, a.state === "completed" ? "" : ` (${a.state})`],
            a.private ? "(private)" : (a.subject ?? "—")])) : "");
    } catch (error) {
      body.replaceChildren(h("p", { class: "notice error" }, `Could not load activities: ${error.message}`));
    }
  });
  return details;
}
