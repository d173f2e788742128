// The live view: the events of the chosen app as they are stored, through
// SubscribeEvents over REST (newline-delimited JSON read with fetch), with
// selector and user filters, pause and resume, and the detail of one event.
//
// It opens with the newest matching events already stored, then follows
// the stream from the head of the log as it was when it opened, so that
// nothing stored meanwhile is missed. Pause ends the stream and keeps the
// last cursor; resume starts again after it with the log's epoch, which is
// the API's own way to resume without gaps. A stream that breaks for a
// reason retrying can fix (UNAVAILABLE, no answer) is resumed the same way
// after a short wait.
import { ListEventsResponseSchema, SubscribeEventsResponseSchema } from "../../gen/ts/imbridge/v1/event_service_pb";
import type { Event } from "../../gen/ts/imbridge/v1/event_pb";
import { ApiError, call, query, stream } from "./api";
import { errorBox, field, fill, h, input, words } from "./dom";
import { eventsTable, row, showDetail } from "./events";

const backfill = 20; // stored events shown when the view opens
const keep = 500; // rows kept; older ones leave the table

export class LiveView {
  readonly el: HTMLElement;
  private readonly selectors = input("live-selectors", "chat, muc:kick… (all)");
  private readonly sender = input("live-sender", "username");
  private readonly recipient = input("live-recipient", "username, group or room id");
  private readonly group = input("live-group", "group or chatroom id");
  private readonly pauseButton = h("button", { id: "live-pause", type: "button" }, "Pause");
  private readonly state = h("span", { id: "live-state", class: "state" }, "");
  private readonly errors = h("div", { id: "live-error" });
  private readonly rows: HTMLTableSectionElement;
  private readonly panel = h("div", { id: "live-detail", class: "panel" }, h("p", { class: "muted" }, "Click an event to see it in full."));

  private parent = "orgs/-/apps/-";
  private abort: AbortController | null = null;
  private paused = false;
  private running = false;
  // away: the stream was ended because the tab is hidden (a browser
  // keeps six connections to a server, and every tab's stream holds one).
  private away = false;
  private lastCursor = 0n; // the newest cursor shown or scanned
  private epoch = "";
  private shown = new Set<bigint>();

  constructor() {
    const t = eventsTable("live-rows");
    this.rows = t.body;
    const apply = (e: globalThis.Event) => {
      e.preventDefault();
      void this.restart();
    };
    this.pauseButton.addEventListener("click", () => (this.paused ? this.resume() : this.pause()));
    this.el = h(
      "section",
      { id: "view-live", class: "view" },
      h(
        "form",
        { class: "toolbar", id: "live-filter", onsubmit: apply },
        field("selectors", this.selectors),
        field("sender", this.sender),
        field("recipient", this.recipient),
        field("group/room", this.group),
        h("button", { type: "submit", id: "live-apply" }, "Apply"),
        this.pauseButton,
        h("button", { type: "button", id: "live-clear", onclick: () => this.clear() }, "Clear"),
        this.state,
      ),
      this.errors,
      h("div", { class: "split" }, h("div", { class: "list" }, t.table), this.panel),
    );
  }

  // setParent chooses the app; the stream starts again.
  setParent(parent: string): void {
    this.parent = parent;
    if (this.running) void this.restart();
  }

  start(): void {
    if (!this.running) void this.restart();
  }

  // setVisible ends the stream while the tab is hidden, and resumes it
  // after the last cursor, without a gap, when the tab is shown again.
  setVisible(visible: boolean): void {
    if (!visible && this.running && !this.paused && !this.away) {
      this.away = true;
      this.abort?.abort();
      this.abort = null;
      this.setState(`away after cursor ${this.lastCursor}`, "paused");
    } else if (visible && this.away) {
      this.away = false;
      if (this.epoch === "" && this.lastCursor === 0n) {
        void this.restart(); // hidden before it had loaded
        return;
      }
      const abort = new AbortController();
      this.abort = abort;
      void this.follow(abort);
    }
  }

  private filterParams(): Record<string, string | string[]> {
    return {
      "filter.selectors": words(this.selectors.value),
      "filter.sender": this.sender.value.trim(),
      "filter.recipient": this.recipient.value.trim(),
      "filter.groupId": this.group.value.trim(),
    };
  }

  private setState(text: string, cls: string): void {
    this.state.textContent = text;
    this.state.className = `state ${cls}`;
  }

  private clear(): void {
    this.rows.replaceChildren();
    this.shown.clear();
  }

  // restart shows the newest stored events that match, then follows.
  async restart(): Promise<void> {
    this.away = false;
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.running = true;
    this.paused = false;
    this.pauseButton.textContent = "Pause";
    this.clear();
    fill(this.errors);
    this.epoch = "";
    this.setState("loading…", "busy");
    const filter = this.filterParams();
    try {
      // The head first: every event after it comes on the stream, and
      // those the backfill also shows are shown once.
      const [head, recent] = await Promise.all([
        call(ListEventsResponseSchema, "GET", `/v1/${this.parent}/events${query({ pageSize: 1, view: "EVENT_VIEW_BASIC" })}`, undefined, abort.signal),
        call(ListEventsResponseSchema, "GET", `/v1/${this.parent}/events${query({ pageSize: backfill, view: "EVENT_VIEW_BASIC", ...filter })}`, undefined, abort.signal),
      ]);
      this.lastCursor = head.events[0]?.cursor ?? 0n;
      for (const ev of [...recent.events].reverse()) this.add(ev);
    } catch (err) {
      if (abort.signal.aborted) return;
      this.fail(err);
      return;
    }
    void this.follow(abort);
  }

  private pause(): void {
    this.paused = true;
    this.away = false;
    this.abort?.abort();
    this.abort = null;
    this.pauseButton.textContent = "Resume";
    this.setState(`paused after cursor ${this.lastCursor}`, "paused");
  }

  private resume(): void {
    this.paused = false;
    this.pauseButton.textContent = "Pause";
    const abort = new AbortController();
    this.abort = abort;
    void this.follow(abort);
  }

  // follow reads the stream from lastCursor until aborted, resuming after
  // errors that retrying can fix.
  private async follow(abort: AbortController): Promise<void> {
    let wait = 500;
    while (!abort.signal.aborted) {
      const start: Record<string, string> =
        this.lastCursor > 0n ? { afterCursor: String(this.lastCursor), epoch: this.epoch } : { position: "START_POSITION_EARLIEST" };
      const path = `/v1/${this.parent}/events:subscribe${query({ ...start, ...this.filterParams(), heartbeatInterval: "5s" })}`;
      this.setState("connecting…", "busy");
      try {
        await stream(
          SubscribeEventsResponseSchema,
          path,
          abort.signal,
          () => {
            this.setState(`live after cursor ${this.lastCursor}`, "live");
            fill(this.errors);
          },
          (msg) => {
            this.epoch = msg.epoch;
            wait = 500;
            if (msg.kind.case === "event") {
              this.add(msg.kind.value);
              this.setState(`live · cursor ${this.lastCursor}`, "live");
            } else if (msg.kind.case === "heartbeat") {
              const hb = msg.kind.value;
              if (hb.scannedCursor > this.lastCursor) this.lastCursor = hb.scannedCursor;
              this.setState(`live · head ${hb.headCursor}`, "live");
            }
          },
          15000, // three heartbeats
        );
        // The server ended the stream without an error: follow again.
      } catch (err) {
        if (abort.signal.aborted) return;
        if (!(err instanceof ApiError) || !err.retryable) {
          this.fail(err);
          return;
        }
        fill(this.errors, errorBox(err));
        this.setState(`reconnecting in ${wait / 1000}s…`, "busy");
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(wait * 2, 10000);
      }
    }
  }

  private fail(err: unknown): void {
    this.running = false;
    fill(this.errors, errorBox(err));
    this.setState("stopped", "failed");
  }

  // add shows an event at the top, once.
  private add(ev: Event): void {
    if (ev.cursor > this.lastCursor) this.lastCursor = ev.cursor;
    if (this.shown.has(ev.cursor)) return;
    this.shown.add(ev.cursor);
    const tr = row(ev, (e) => void showDetail(this.panel, e));
    // Rows are newest first; a backfilled event may be older than some shown.
    let before: Element | null = this.rows.firstElementChild;
    while (before && BigInt(before.getAttribute("data-cursor") ?? "0") > ev.cursor) before = before.nextElementSibling;
    this.rows.insertBefore(tr, before);
    tr.classList.add("new");
    setTimeout(() => tr.classList.remove("new"), 1500);
    while (this.rows.childElementCount > keep) {
      const last = this.rows.lastElementChild;
      if (!last) break;
      this.shown.delete(BigInt(last.getAttribute("data-cursor") ?? "0"));
      last.remove();
    }
  }
}
