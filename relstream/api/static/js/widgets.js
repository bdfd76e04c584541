// One entry per widget of SPEC §4, in page order: title, one-line definition, which activities contribute
// (the drill-down filter; null when there is none), and render(data, document, charts) -> nodes.
import { bars, chart, colour, gauge, THEM, US } from "./charts.js";
import {
  day, h, hours, icon, num, percent, STATUS_LABEL, table, time, TREND, TYPE_LABEL, TYPE_PLURAL,
} from "./dom.js";
import { ROOT } from "./api.js";

const TYPES = ["email", "meeting", "phone_call"];
const completed = (a) => a.state === "completed";
const completedEmail = (a) => completed(a) && a.type === "email";

function stats(pairs) {
  return h("dl", { class: "stats" }, pairs.map(([label, value]) => h("div", { class: "stat" }, h("dt", {}, label), h("dd", {}, value))));
}

function people(list, empty) {
  if (!list.length) return h("p", {}, empty);
  return h("ol", { class: "people" }, list.map((p) => h("li", { class: "person" },
    h("span", { class: "count" }, num(p.count), h("span", { class: "visually-hidden" }, " activities")),
    h("div", { class: "name" }, p.name ?? p.id),
    h("ul", { class: "modes", "aria-label": "By contact mode" }, TYPES.map((t) =>
      h("li", { title: `${p.by_type[t]} ${TYPE_PLURAL[t]}` }, icon(t), num(p.by_type[t]),
        h("span", { class: "visually-hidden" }, ` ${TYPE_PLURAL[t]}`)))),
    h("div", { class: "last" }, "Last interaction ", time(p.last_interaction_at)))));
}

function interaction(label, moment, none) {
  const value = moment
    ? [icon(moment.type), ` ${TYPE_LABEL[moment.type]}, `, time(moment.at), moment.subject ? ` — ${moment.subject}` : ""]
    : none;
  return [h("dt", {}, label), h("dd", {}, value)];
}

const ACTIVITY_SERIES = [
  ["email_sent", "E-mails sent", US], ["email_received", "E-mails received", THEM],
  ["meeting_sent", "Meetings sent", "#60a5fa"], ["meeting_received", "Meetings received", "#fb923c"],
  ["call_made", "Calls made", "#1e3a8a"], ["call_received", "Calls received", "#7c2d12"],
];

export const WIDGETS = {
  overview: {
    title: "Overview",
    definition: "The largest differences between our side and the customer's, one sentence each.",
    drill: completed,
    render: (data) => (data.highlights.length
      ? h("ul", { class: "highlights" }, data.highlights.map((s) => h("li", {}, s)))
      : h("p", {}, "No highlights yet.")),
  },

  relationship_health: {
    title: "Relationship health",
    definition: "Recency, activity, reciprocity and responsiveness as a 0–100 score; the trend compares with 14 days ago.",
    drill: (a) => a.state === "completed" || a.state === "scheduled",
    render(data, _doc, charts) {
      const [arrow, trend] = TREND[data.trend];
      const summary = data.score === null
        ? "Gauge: not enough information for a health score"
        : `Gauge: health score ${data.score} of 100, ${STATUS_LABEL[data.status]}`;
      return [
        h("div", { class: "gauge" },
          chart(charts, summary, gauge(data.score, colour(data.status)), "short"),
          h("div", { class: "score", "aria-hidden": "true" }, data.score === null ? "—" : String(data.score))),
        h("p", { class: "health-status" },
          h("span", { class: `badge ${data.status}` }, STATUS_LABEL[data.status]),
          h("span", { class: "trend" }, h("span", { "aria-hidden": "true" }, `${arrow} `), trend)),
        h("p", { class: "visually-hidden" }, `Score ${data.score ?? "not available"}`),
        h("dl", { class: "interactions" },
          interaction("Last interaction", data.last_interaction, "None yet"),
          interaction("Next interaction", data.next_interaction, "None scheduled")),
      ];
    },
  },

  customer_interactions: {
    title: "Customer interactions",
    definition: "Completed e-mails, meetings and calls in the KPI window, by the side that initiated them.",
    drill: completed,
    render(data, _doc, charts) {
      const summary = TYPES.map((t) => `${TYPE_LABEL[t]}: ${data[t].by_us} by us, ${data[t].by_them} by them`).join("; ");
      return [
        chart(charts, `Grouped bar chart. ${summary}.`, bars({
          labels: TYPES.map((t) => TYPE_LABEL[t]),
          datasets: [
            { label: "By us", data: TYPES.map((t) => data[t].by_us), backgroundColor: US },
            { label: "By them", data: TYPES.map((t) => data[t].by_them), backgroundColor: THEM },
          ],
        })),
        table("Customer interactions by initiator",
          [{ label: "Type" }, { label: "By us", numeric: true }, { label: "By them", numeric: true }],
          TYPES.map((t) => [TYPE_LABEL[t], num(data[t].by_us), num(data[t].by_them)]), { hidden: true }),
      ];
    },
  },

  email_ratio: {
    title: "E-mails sent and received",
    definition: "By them: e-mails from the customer per e-mail from us; by us: the inverse.",
    drill: completedEmail,
    render(data, doc, charts) {
      const counts = doc.widgets.customer_interactions?.email;
      const nodes = [stats([["By them", num(data.by_them, 2)], ["By us", num(data.by_us, 2)]])];
      if (counts) {
        nodes.push(
          chart(charts, `Bar chart: ${counts.by_us} e-mails sent by us, ${counts.by_them} received from them.`, bars({
            labels: ["Sent by us", "Received"],
            datasets: [{ label: "E-mails", data: [counts.by_us, counts.by_them], backgroundColor: [US, THEM] }],
            horizontal: true, legend: false,
          }), "short"),
          table("E-mails sent and received", [{ label: "Direction" }, { label: "E-mails", numeric: true }],
            [["Sent by us", num(counts.by_us)], ["Received from them", num(counts.by_them)]], { hidden: true }));
      }
      return nodes;
    },
  },

  most_contacted: {
    title: "Most contacted",
    definition: "The customer's three people who took part in the most activities.",
    drill: completed,
    render: (data) => people(data, "No customer contacts in the KPI window."),
  },

  most_contacted_by: {
    title: "Most contacted by",
    definition: "Our three people who took part in the most activities with this customer.",
    drill: completed,
    render: (data) => people(data, "No colleagues in the KPI window."),
  },

  relationship_activities: {
    title: "Relationship activities",
    definition: "Completed activities per day over the last 60 days, by type and direction.",
    wide: true,
    drill: (a, doc) => completed(a) && a.occurred_at >= doc.widgets.relationship_activities[0].day,
    render(data, _doc, charts) {
      const total = (d) => ACTIVITY_SERIES.reduce((sum, [key]) => sum + d[key], 0);
      const active = data.filter((d) => total(d) > 0);
      const busiest = active.reduce((best, d) => (best && total(best) >= total(d) ? best : d), null);
      const summary = `Stacked bar chart of the last ${data.length} days: ${active.reduce((s, d) => s + total(d), 0)} `
        + `activities on ${active.length} days` + (busiest ? `; busiest ${day(busiest.day)} with ${total(busiest)}.` : ".");
      return [
        chart(charts, summary, bars({
          labels: data.map((d) => day(d.day)),
          datasets: ACTIVITY_SERIES.map(([key, label, backgroundColor]) => ({ label, data: data.map((d) => d[key]), backgroundColor })),
          stacked: true,
        }), "tall"),
        table("Relationship activities per day (days without activity omitted)",
          [{ label: "Day" }, ...ACTIVITY_SERIES.map(([, label]) => ({ label, numeric: true }))],
          active.map((d) => [day(d.day), ...ACTIVITY_SERIES.map(([key]) => num(d[key]))]), { hidden: true }),
      ];
    },
  },

  email_engagement: {
    title: "E-mail engagement",
    definition: "What the customer did with the tracked e-mails we sent: opened, replied, clicked a link, viewed an attachment.",
    drill: (a) => completedEmail(a) && a.initiator === "us",
    render(data, _doc, charts) {
      const stages = [
        ["Tracked", data.tracked, null], ["Opened", data.opened, data.open_rate], ["Replied", data.replied, data.reply_rate],
        ["Link clicked", data.link_clicked, data.click_rate], ["Attachment viewed", data.attachment_viewed, data.attachment_rate],
      ];
      const nodes = [stats([["Total opens", num(data.total_opens)], ["Last opened", time(data.last_opened_at)]])];
      if (data.tracked === 0) nodes.push(h("p", {}, "No tracked e-mails in the KPI window: turn on e-mail tracking to see engagement."));
      else {
        nodes.push(chart(charts, `Funnel: ${stages.map(([label, n]) => `${label} ${n}`).join(", ")}.`, bars({
          labels: stages.map(([label, , rate]) => (rate === null ? label : [label, percent(rate)])),  // two lines: fits 360 px
          datasets: [{ label: "E-mails", data: stages.map(([, n]) => n), backgroundColor: [US, "#2563eb", "#3b82f6", "#60a5fa", "#93c5fd"] }],
          horizontal: true, legend: false,
        })));
      }
      nodes.push(table("E-mail engagement funnel", [{ label: "Stage" }, { label: "E-mails", numeric: true }, { label: "Rate", numeric: true }],
        stages.map(([label, n, rate]) => [label, num(n), rate === null ? "" : percent(rate)]), { hidden: true }));
      return nodes;
    },
  },

  time_spent: {
    title: "Time spent",
    definition: "Estimated time invested by each side: 5 min to write an e-mail, 2.5 min to read one, meetings and calls their length.",
    drill: completed,
    render(data, _doc, charts) {
      return [
        stats([["By us", hours(data.by_us_hours)], ["By them", hours(data.by_them_hours)]]),
        chart(charts, `Bar chart: ${data.by_us_hours} hours by us, ${data.by_them_hours} hours by them.`, bars({
          labels: ["By us", "By them"],
          datasets: [{ label: "Hours", data: [data.by_us_hours, data.by_them_hours], backgroundColor: [US, THEM] }],
          horizontal: true, legend: false, unit: "hours",
        }), "short"),
        table("Time spent", [{ label: "Side" }, { label: "Minutes", numeric: true }, { label: "Hours", numeric: true }],
          [["By us", num(data.by_us, 1), num(data.by_us_hours, 2)], ["By them", num(data.by_them, 1), num(data.by_them_hours, 2)]],
          { hidden: true }),
      ];
    },
  },

  response_time: {
    title: "Response time",
    definition: "How each side answers the other's e-mails: the share answered and the hours to the first reply.",
    drill: completedEmail,
    render(data, _doc, charts) {
      const sides = [["By us", data.by_us], ["By them", data.by_them]];
      return [
        stats(sides.map(([label, s]) => [`${label}: answered`, `${percent(s.rate)} (${s.responded}/${s.received})`])),
        chart(charts, "Bar chart of reply hours. " + sides.map(([label, s]) =>
          `${label}: average ${hours(s.avg_hours)}, median ${hours(s.median_hours)}`).join("; ") + ".", bars({
          labels: ["Average", "Median"],
          datasets: sides.map(([label, s], i) => ({ label, data: [s.avg_hours, s.median_hours], backgroundColor: i ? THEM : US })),
          unit: "hours",
        })),
        table("Response time", [
          { label: "Side" }, { label: "Answered", numeric: true }, { label: "Received", numeric: true },
          { label: "Rate", numeric: true }, { label: "Average", numeric: true }, { label: "Median", numeric: true }],
        sides.map(([label, s]) => [label, num(s.responded), num(s.received), percent(s.rate), hours(s.avg_hours), hours(s.median_hours)]),
        { hidden: true }),
      ];
    },
  },

  who_knows_whom: {
    title: "Who knows whom",
    definition: "Our people with the strongest connection here; recent activities weigh more (half-life 90 days).",
    drill: completed,
    render(data) {
      if (!data.length) return h("p", {}, "Nobody from our side in the KPI window.");
      const strongest = Math.max(...data.map((p) => p.strength), 1);
      return h("ol", { class: "people" }, data.map((p) => h("li", { class: "person" },
        h("span", { class: "count" }, num(p.strength, 2), h("span", { class: "visually-hidden" }, " strength")),
        h("div", { class: "name" }, p.name ?? p.id),
        h("meter", { min: 0, max: strongest, value: p.strength, "aria-hidden": "true" }),
        h("div", { class: "last" }, `${num(p.count)} activities · last `, time(p.last_interaction_at)))));
    },
  },

  similar_won_deals: {
    title: "Similar won deals",
    definition: "Won opportunities most like this one (industry, products, value), and how they were worked.",
    wide: true,
    drill: null,
    render(data) {
      if (!data.length) return h("p", {}, "No similar won deals yet.");
      return table("Similar won deals", [
        { label: "Deal" }, { label: "Similarity", numeric: true }, { label: "Activities", numeric: true },
        { label: "Time spent by us", numeric: true }, { label: "Our avg. response", numeric: true },
        { label: "Their response rate", numeric: true }],
      data.map((d) => [h("a", { href: `${ROOT}/ui/opportunity/${encodeURIComponent(d.id)}` }, d.name ?? d.id),
        num(d.similarity, 2), num(d.activities), hours(d.time_spent_hours), hours(d.avg_response_hours_by_us),
        percent(d.response_rate_by_them)]));
    },
  },
};

