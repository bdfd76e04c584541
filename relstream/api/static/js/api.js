// The dashboard's only door to the API: bearer token from sessionStorage, JSON errors, the SSE stream.
export const ROOT = new URL("../../../", import.meta.url).pathname.replace(/\/$/, "");  // app root (proxy prefix)
const TOKEN_KEY = "relstream.token";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function headers() {
  const value = token.get();
  return value ? { Authorization: `Bearer ${value}` } : {};
}

async function failure(response) {
  let body = {};
  try { body = await response.json(); } catch { /* not JSON: keep the status line */ }
  return new ApiError(response.status, body.code || `http_${response.status}`, body.message || response.statusText);
}

export async function get(path, params = {}) {
  const url = new URL(ROOT + path, location.origin);
  for (const [key, value] of Object.entries(params)) if (value) url.searchParams.set(key, value);
  const response = await fetch(url, { headers: headers() });
  if (!response.ok) throw await failure(response);
  return response.json();
}

export const recordPath = (type, id) => `/v1/records/${encodeURIComponent(type)}/${encodeURIComponent(id)}`;

// Server-sent events over fetch (EventSource cannot send an Authorization header). Reconnects until stopped.
export function follow(type, id, { onDocument, onDeleted, onState }) {
  const controller = new AbortController();
  const run = async () => {
    while (!controller.signal.aborted) {
      try {
        const response = await fetch(ROOT + recordPath(type, id) + "/kpis/stream", {
          headers: { ...headers(), Accept: "text/event-stream" }, signal: controller.signal,
        });
        if (!response.ok) throw await failure(response);
        onState("live");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const event = parseEvent(buffer.slice(0, end));
            buffer = buffer.slice(end + 2);
            if (event.name === "kpis") onDocument(JSON.parse(event.data));
            else if (event.name === "deleted") { onDeleted(); return; }
            else if (event.name === "unavailable") onState("store unavailable");
          }
        }
      } catch (error) {
        if (controller.signal.aborted) return;
        if (error instanceof ApiError && error.status === 404) { onDeleted(); return; }
        if (error instanceof ApiError && error.status < 500) { onState(`stopped: ${error.message}`); return; }
      }
      onState("reconnecting…");
      await new Promise((resolve) => setTimeout(resolve, 5000));
    }
  };
  run();
  return () => controller.abort();
}

function parseEvent(block) {
  const event = { name: "message", data: "" };
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "event") event.name = value;
    else if (field === "data") data.push(value);
  }
  event.data = data.join("\n");
  return event;
}
