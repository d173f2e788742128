// The imbridge console: one page, four views (live, history, chatrooms, at
// a glance), chosen by the address's #fragment. It talks only to the REST
// API of the origin that served it.
import { apiKey, parentOf, setAPIKey } from "./api";
import { ChatroomsView } from "./chatrooms";
import { h, input } from "./dom";
import { GlanceView } from "./glance";
import { HistoryView } from "./history";
import { LiveView } from "./live";

const appItem = "imbridge.console.app";

function main(): void {
  const root = document.getElementById("console");
  if (!root) return;

  // The app whose events the views show; empty is every app. Not a secret:
  // it is kept across sessions.
  const app = input("app", "all apps, or org#app", localStorage.getItem(appItem) ?? "");
  const key = h("input", { id: "api-key", type: "password", placeholder: "API key", autocomplete: "off" });
  key.value = apiKey();
  const keyState = h("span", { id: "api-key-state", class: "muted" }, apiKey() ? "key set" : "no key");

  const live = new LiveView();
  const history = new HistoryView();
  const rooms = new ChatroomsView(() => app.value.trim());
  const glance = new GlanceView();
  const views: Record<string, { el: HTMLElement; show(): void; hide?(): void; title: string }> = {
    live: { el: live.el, show: () => live.start(), title: "Live" },
    history: { el: history.el, show: () => history.show(), title: "History" },
    chatrooms: { el: rooms.el, show: () => rooms.show(), title: "Chatrooms" },
    glance: { el: glance.el, show: () => glance.show(), hide: () => glance.hide(), title: "At a glance" },
  };
  const tabs = h("nav", { class: "tabs" });
  for (const [name, v] of Object.entries(views)) {
    tabs.append(h("a", { href: `#${name}`, id: `tab-${name}` }, v.title));
  }

  const applyApp = () => {
    const value = app.value.trim();
    if (value) localStorage.setItem(appItem, value);
    else localStorage.removeItem(appItem);
    live.setParent(parentOf(value));
    history.setParent(parentOf(value));
  };
  live.setParent(parentOf(app.value));
  history.setParent(parentOf(app.value));

  root.append(
    h(
      "header",
      {},
      h("h1", {}, "imbridge"),
      tabs,
      h(
        "form",
        {
          class: "settings",
          id: "settings",
          onsubmit: (e: Event) => {
            e.preventDefault();
            setAPIKey(key.value.trim());
            keyState.textContent = apiKey() ? "key set" : "no key";
            applyApp();
            void live.restart();
          },
        },
        app,
        key,
        h("button", { type: "submit", id: "api-key-save" }, "Use"),
        keyState,
      ),
    ),
    ...Object.values(views).map((v) => v.el),
  );

  const route = () => {
    const name = location.hash.slice(1) in views ? location.hash.slice(1) : "live";
    for (const [n, v] of Object.entries(views)) {
      const on = n === name;
      v.el.hidden = !on;
      document.getElementById(`tab-${n}`)?.classList.toggle("active", on);
      if (on) v.show();
      else v.hide?.();
    }
  };
  window.addEventListener("hashchange", route);
  route();
  // The live stream runs whichever view is shown, so that it is current
  // when the operator comes back to it; not while the tab is hidden.
  live.start();
  document.addEventListener("visibilitychange", () => live.setVisible(document.visibilityState === "visible"));
}

main();
