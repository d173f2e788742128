// At a glance: StatusService.GetStatus read every few seconds while the
// view is open. Rates are the difference of two reads over the difference
// of their read_time, as the contract says; the first read shows totals.
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { GetStatusResponseSchema, type GetStatusResponse } from "../../gen/ts/imbridge/v1/status_service_pb";
import { call } from "./api";
import { errorBox, fill, h, time } from "./dom";

const every = 2000; // ms between reads

export class GlanceView {
  readonly el: HTMLElement;
  private readonly body = h("div", { id: "glance-body" }, h("p", { class: "muted" }, "reading…"));
  private readonly errors = h("div", { id: "glance-error" });
  private readonly stamp = h("span", { class: "state", id: "glance-state" });
  private timer: ReturnType<typeof setTimeout> | undefined;
  private previous: GetStatusResponse | undefined;
  private active = false;
  private loop = 0; // the reading loop that may schedule the next read

  constructor() {
    this.el = h("section", { id: "view-glance", class: "view" }, h("div", { class: "toolbar" }, this.stamp), this.errors, this.body);
  }

  show(): void {
    if (this.active) return;
    this.active = true;
    void this.tick(++this.loop); // a read still running from before stops after it
  }

  hide(): void {
    this.active = false;
    clearTimeout(this.timer);
  }

  private async tick(loop: number): Promise<void> {
    try {
      const now = await call(GetStatusResponseSchema, "GET", "/v1/status");
      fill(this.errors);
      this.render(now, this.previous);
      this.previous = now;
    } catch (err) {
      fill(this.errors, errorBox(err));
      this.stamp.textContent = "";
    }
    if (this.active && loop === this.loop) this.timer = setTimeout(() => void this.tick(loop), every);
  }

  private render(now: GetStatusResponse, before: GetStatusResponse | undefined): void {
    const seconds =
      before?.readTime && now.readTime ? (timestampDate(now.readTime).getTime() - timestampDate(before.readTime).getTime()) / 1000 : 0;
    // rate is a per-second figure, or … before there are two reads.
    // A family or reason missing from the read before had none then.
    const rate = (nowCount: bigint, beforeCount: bigint | undefined): string => {
      const prev = beforeCount ?? 0n;
      return before && seconds > 0 && nowCount >= prev ? (Number(nowCount - prev) / seconds).toFixed(1) : "…";
    };
    const since = now.startTime ? time(timestampDate(now.startTime)) : "?";
    this.stamp.textContent = `read ${now.readTime ? time(timestampDate(now.readTime)) : ""} · counting since ${since} · head cursor ${now.headCursor} · epoch ${now.epoch}`;

    const table = (id: string, head: string[], rows: (string | number | bigint)[][], empty: string) =>
      h(
        "table",
        { id, class: "glance" },
        h("thead", {}, h("tr", {}, ...head.map((c) => h("th", {}, c)))),
        h(
          "tbody",
          {},
          ...(rows.length > 0
            ? rows.map((r) => h("tr", { "data-key": String(r[0]) }, ...r.map((c) => h("td", { class: typeof c === "string" ? "" : "num" }, String(c)))))
            : [h("tr", {}, h("td", { colspan: head.length, class: "muted" }, empty))]),
        ),
      );

    const callbacks = now.callbacks.map((c) => {
      const b = before?.callbacks.find((x) => x.family === c.family);
      return [c.family, rate(c.stored, b?.stored), c.received, c.stored, c.duplicate, c.dropped];
    });
    const refusals = now.refusals.map((r) => {
      const b = before?.refusals.find((x) => x.reason === r.reason && x.family === r.family);
      return [r.reason, r.family || "—", rate(r.count, b?.count), r.count];
    });
    const streams = now.streams.map((s) => {
      const f = s.filter;
      const filter = f ? [f.selectors.join(","), f.sender && `sender=${f.sender}`, f.recipient && `recipient=${f.recipient}`].filter(Boolean).join(" ") : "";
      return [s.source, filter || "all", s.openTime ? time(timestampDate(s.openTime)) : "", s.sent, s.scannedCursor, s.lag];
    });
    const subscriptions = now.subscriptions.map((s) => [s.name, s.backlog, s.unacknowledged]);
    fill(
      this.body,
      h("h3", {}, "Callbacks by family"),
      table("glance-callbacks", ["family", "stored/s", "received", "stored", "duplicate", "dropped"], callbacks, "No callback since start."),
      h("h3", {}, "Refusals by reason"),
      table("glance-refusals", ["reason", "family", "per s", "count"], refusals, "No callback refused since start."),
      h("h3", {}, "Streams and their lag"),
      table("glance-streams", ["source", "filter", "opened", "sent", "scanned cursor", "lag"], streams, "No stream open."),
      h("h3", {}, "Subscriptions"),
      table("glance-subscriptions", ["name", "backlog", "unacknowledged"], subscriptions, "No subscription."),
    );
  }
}
