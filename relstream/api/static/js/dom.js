// Small DOM and formatting helpers. Data only ever enters the page as text nodes (no innerHTML).
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

const SVG = "http://www.w3.org/2000/svg";
const ICON_PATHS = {  // 24x24 line icons: envelope, calendar, handset
  email: ["M3 6h18v12H3z", "M3 7l9 6 9-6"],
  meeting: ["M4 6h16v14H4z", "M4 10h16", "M8 3v5", "M16 3v5"],
  phone_call: ["M5 4h4l2 5-3 2a11 11 0 0 0 5 5l2-3 5 2v4a2 2 0 0 1-2 2A16 16 0 0 1 3 6a2 2 0 0 1 2-2"],
};

export function icon(type) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon");
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICON_PATHS[type]) {
    const path = document.createElementNS(SVG, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const TYPE_LABEL = { email: "E-mail", meeting: "Meeting", phone_call: "Phone call" };
export const TYPE_PLURAL = { email: "e-mails", meeting: "meetings", phone_call: "calls" };
export const RECORD_LABEL = { contact: "Contact", account: "Account", opportunity: "Opportunity", lead: "Lead" };
export const RECORD_PLURAL = { contact: "Contacts", account: "Accounts", opportunity: "Opportunities", lead: "Leads" };
export const STATUS_LABEL = { good: "Good", fair: "Fair", poor: "Poor", not_enough_info: "Not enough information" };
export const TREND = {
  improving: ["↑", "Improving"], steady: ["→", "Steady"], declining: ["↓", "Declining"],
  not_enough_info: ["–", "No trend yet"],
};

const dateTime = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" });
const dayOnly = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", timeZone: "UTC" });

export function time(iso) {
  return iso ? h("time", { datetime: iso }, `${dateTime.format(new Date(iso))} UTC`) : "—";
}

export const day = (isoDay) => dayOnly.format(new Date(`${isoDay}T00:00:00Z`));

export function num(value, digits = 0) {
  if (value === null || value === undefined) return "—";
  return value.toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const hours = (value) => (value === null || value === undefined ? "—" : `${num(value, 2)} h`);
export const percent = (rate) => (rate === null || rate === undefined ? "—" : `${Math.round(rate * 100)}%`);

export function table(caption, columns, rows, { hidden = false } = {}) {
  const numeric = columns.map((c) => c.numeric);
  const node = h("table", {},
    h("caption", { class: "visually-hidden" }, caption),  // the widget's heading says it on screen
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.numeric ? "num" : null }, c.label)))),
    h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell, i) =>
      i === 0 ? h("th", { scope: "row" }, cell) : h("td", { class: numeric[i] ? "num" : null }, cell))))));
  if (hidden) return h("div", { class: "visually-hidden" }, node);
  return h("div", { class: "table-scroll", tabindex: 0, role: "region", "aria-label": caption }, node);  // scrolls by keyboard too
}
