// The history view: stored events a page at a time (ListEvents, with the
// same filters as the live view and either order), and one event by its
// cursor or its vendor call id (GetEvent).
import { EventSchema } from "../../gen/ts/imbridge/v1/event_pb";
import { ListEventsResponseSchema } from "../../gen/ts/imbridge/v1/event_service_pb";
import { call, query } from "./api";
import { errorBox, field, fill, h, input, words } from "./dom";
import { eventsTable, row, showDetail } from "./events";

export class HistoryView {
  readonly el: HTMLElement;
  private readonly selectors = input("history-selectors", "chat, muc:kick… (all)");
  private readonly sender = input("history-sender", "username");
  private readonly recipient = input("history-recipient", "username, group or room id");
  private readonly order = h(
    "select",
    { id: "history-order" },
    h("option", { value: "LIST_ORDER_NEWEST_FIRST" }, "newest first"),
    h("option", { value: "LIST_ORDER_OLDEST_FIRST" }, "oldest first"),
  );
  private readonly pageSize = h(
    "select",
    { id: "history-page-size" },
    ...[5, 20, 50, 100].map((n) => h("option", { value: n, selected: n === 20 }, String(n))),
  );
  private readonly lookup = input("history-lookup", "cursor, or call id (org#app_…)");
  private readonly errors = h("div", { id: "history-error" });
  private readonly rows: HTMLTableSectionElement;
  private readonly pager = h("div", { class: "pager" });
  private readonly panel = h("div", { id: "history-detail", class: "panel" }, h("p", { class: "muted" }, "Click an event to see it in full."));
  private parent = "orgs/-/apps/-";
  // The page tokens of the pages shown so far: tokens[i] reads page i+1.
  private tokens: string[] = [""];
  // The listing the tokens belong to, as the form read when it was asked
  // for: paging keeps it, whatever the form says since.
  private listing: { parent: string; params: Record<string, string | string[]> } = { parent: "", params: {} };
  private loaded = false;

  constructor() {
    const t = eventsTable("history-rows");
    this.rows = t.body;
    this.el = h(
      "section",
      { id: "view-history", class: "view" },
      h(
        "form",
        {
          class: "toolbar",
          id: "history-filter",
          onsubmit: (e: globalThis.Event) => {
            e.preventDefault();
            this.list();
          },
        },
        field("selectors", this.selectors),
        field("sender", this.sender),
        field("recipient", this.recipient),
        field("order", this.order),
        field("page size", this.pageSize),
        h("button", { type: "submit", id: "history-list" }, "List"),
      ),
      h(
        "form",
        {
          class: "toolbar",
          id: "history-get",
          onsubmit: (e: globalThis.Event) => {
            e.preventDefault();
            void this.get();
          },
        },
        field("get one event", this.lookup),
        h("button", { type: "submit", id: "history-get-button" }, "Get"),
      ),
      this.errors,
      h("div", { class: "split" }, h("div", { class: "list" }, t.table, this.pager), this.panel),
    );
  }

  setParent(parent: string): void {
    this.parent = parent;
    if (this.loaded) this.list();
  }

  show(): void {
    if (!this.loaded) this.list();
  }

  // list reads the first page of the listing the form asks for.
  private list(): void {
    this.listing = {
      parent: this.parent,
      params: {
        pageSize: this.pageSize.value,
        order: this.order.value,
        "filter.selectors": words(this.selectors.value),
        "filter.sender": this.sender.value.trim(),
        "filter.recipient": this.recipient.value.trim(),
      },
    };
    this.tokens = [""];
    void this.load(0);
  }

  private async load(page: number): Promise<void> {
    this.loaded = true;
    fill(this.errors);
    const { parent, params } = this.listing;
    const path = `/v1/${parent}/events${query({ ...params, pageToken: this.tokens[page] })}`;
    try {
      const res = await call(ListEventsResponseSchema, "GET", path);
      this.tokens = this.tokens.slice(0, page + 1);
      if (res.nextPageToken) this.tokens.push(res.nextPageToken);
      fill(this.rows, ...res.events.map((ev) => row(ev, (e) => void showDetail(this.panel, e))));
      if (res.events.length === 0) fill(this.rows, h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No stored event matches.")));
      fill(
        this.pager,
        h("button", { type: "button", id: "history-first", disabled: page === 0, onclick: () => void this.load(0) }, "« First"),
        h("button", { type: "button", id: "history-prev", disabled: page === 0, onclick: () => void this.load(page - 1) }, "‹ Previous"),
        h("span", { id: "history-page" }, `page ${page + 1}`),
        h("button", { type: "button", id: "history-next", disabled: !res.nextPageToken, onclick: () => void this.load(page + 1) }, "Next ›"),
      );
    } catch (err) {
      fill(this.errors, errorBox(err));
    }
  }

  private async get(): Promise<void> {
    fill(this.errors);
    const key = this.lookup.value.trim();
    if (!key) return;
    const path = /^\d+$/.test(key) ? `/v1/events/${key}` : `/v1/events:lookup${query({ callId: key })}`;
    try {
      // GetEvent answers the event itself over REST (its response_body).
      await showDetail(this.panel, await call(EventSchema, "GET", path));
    } catch (err) {
      fill(this.errors, errorBox(err));
      fill(this.panel, h("p", { class: "muted" }, "No event."));
    }
  }
}
