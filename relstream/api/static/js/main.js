// Routes /ui/, /ui/{type} and /ui/{type}/{id} to their page; asks for a token when the API wants one.
import { ApiError, get, ROOT, token } from "./api.js";
import { h, RECORD_PLURAL } from "./dom.js";
import { pipelinePage } from "./pipeline.js";
import { recordPage } from "./record.js";

const TYPES = ["opportunity", "account", "contact", "lead"];
const main = document.getElementById("main");
const live = document.getElementById("live");
const forget = document.getElementById("forget-token");
const setLive = (text) => { live.textContent = text; };

forget.hidden = !token.get();
forget.addEventListener("click", () => { token.clear(); location.reload(); });

async function homePage() {
  const pages = await Promise.all(TYPES.map((type) => get(`/v1/records/${type}`, { limit: 1 })));
  main.replaceChildren(h("h1", {}, "Relationship analytics"), h("ul", { class: "types" }, TYPES.map((type, i) =>
    h("li", {}, h("a", { href: `${ROOT}/ui/${type}` }, RECORD_PLURAL[type],
      h("span", { class: "count" }, `${pages[i].total} with a health score`))))));
}

function tokenForm(error) {
  const input = h("input", { id: "token", type: "password", autocomplete: "off", required: true });
  const form = h("form", { class: "token-form" },
    h("h1", {}, "Access token"),
    h("p", {}, error.status === 401 && token.get() ? "That token was not accepted. " : "", "This API needs a bearer token. ",
      "It is kept in this browser tab only (sessionStorage)."),
    h("label", { for: "token" }, "Token"), input,
    h("button", { type: "submit", class: "primary" }, "Continue"));
  form.addEventListener("submit", (event) => { event.preventDefault(); token.set(input.value.trim()); location.reload(); });
  main.replaceChildren(form);
  input.focus();
}

async function route() {
  const parts = location.pathname.slice(ROOT.length).split("/").filter(Boolean).map(decodeURIComponent);  // ["ui", type?, id?]
  const [, type, id] = parts;
  for (const link of document.querySelectorAll("header.site nav a")) {
    if (link.pathname === `${ROOT}/ui/${type}`) link.setAttribute("aria-current", "page");
  }
  try {
    if (!type) await homePage();
    else if (!id) await pipelinePage(main, type);
    else await recordPage(main, type, id, setLive);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return tokenForm(error);
    const text = error instanceof ApiError && error.status === 404 ? `No KPIs for this ${type} yet.` : `Could not load: ${error.message}`;
    main.replaceChildren(h("h1", {}, "Not available"), h("p", { class: "notice error", role: "alert" }, text));
  }
}

route();
