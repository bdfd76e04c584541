// Chart.js (vendored UMD build, global `Chart`) with the dashboard's defaults. Every chart is a role="img"
// canvas with a text summary; the numbers themselves are in a table next to it.
import { h } from "./dom.js";

const css = getComputedStyle(document.documentElement);
export const colour = (name) => css.getPropertyValue(`--${name}`).trim();
export const US = colour("us");
export const THEM = colour("them");

Chart.defaults.animation = false;  // live refresh redraws; motion adds nothing here
Chart.defaults.maintainAspectRatio = false;
Chart.defaults.font.family = css.fontFamily;
Chart.defaults.color = colour("ink");

// A sized box with a role="img" canvas; the chart is kept in `charts` so a redraw can destroy it first.
// Chart.js draws once the canvas is attached to the page.
export function chart(charts, summary, config, size = "") {
  const canvas = h("canvas", { role: "img", "aria-label": summary });
  charts.push(new Chart(canvas, config));
  return h("div", { class: `chart ${size}` }, canvas);
}

export function bars({ labels, datasets, horizontal = false, stacked = false, legend = true, unit = "" }) {
  const axis = { stacked, beginAtZero: true, ticks: { precision: unit ? undefined : 0 } };
  return {
    type: "bar",
    data: { labels, datasets },
    options: {
      indexAxis: horizontal ? "y" : "x",
      scales: {
        x: horizontal ? { ...axis, title: { display: Boolean(unit), text: unit } } : { stacked, ticks: { autoSkip: true, maxRotation: 0 } },
        y: horizontal ? { stacked } : { ...axis, title: { display: Boolean(unit), text: unit } },
      },
      plugins: { legend: { display: legend, position: "bottom", labels: { boxWidth: 12 } } },
    },
  };
}

export function gauge(score, statusColour) {
  const value = score ?? 0;
  return {
    type: "doughnut",
    data: { datasets: [{ data: [value, 100 - value], backgroundColor: [statusColour, "#e5e7eb"], borderWidth: 0 }] },
    options: {
      rotation: -90, circumference: 180, cutout: "72%",
      plugins: { legend: { display: false }, tooltip: { enabled: false } },
    },
  };
}
