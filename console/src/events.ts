// How an event shows: one table row, and the detail of one event (its
// typed fields, its typed body, and the raw body as imbridge received it).
import { toJson, type JsonValue } from "@bufbuild/protobuf";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import { EventSchema, EventType, Verification, type Event } from "../../gen/ts/imbridge/v1/event_pb";
import { call } from "./api";
import { errorBox, fill, h, time } from "./dom";

// summary says in a few words what an event is about.
export function summary(ev: Event): string {
  const b = ev.body;
  switch (b.case) {
    case "message": {
      const first = b.value.bodies[0]?.kind;
      if (!first || first.case === undefined) return "(no body)";
      if (first.case === "txt") return first.value.msg;
      if (first.case === "cmd") return `cmd ${first.value.action}`;
      if (first.case === "custom") return `custom ${first.value.customEvent}`;
      if (first.case === "loc") return `location ${first.value.addr}`;
      if (first.case === "unknown") return `(${first.value.type})`;
      return `${first.case} ${first.value.filename}`;
    }
    case "muc":
      return `${b.value.operationName} ${b.value.mucId?.groupId ?? ""}${b.value.isChatroom ? " (chatroom)" : ""}`;
    case "roster":
      return `roster ${b.value.operationName}`;
    case "userStatus":
      return `${b.value.statusName} ${b.value.reasonName}`.trim();
    case "recall":
      return `recall ${b.value.recallId}`;
    case undefined:
      return "";
    default:
      return b.case;
  }
}

function who(ev: Event): string {
  const from = ev.senderUsername || ev.sender;
  const to = ev.recipientUsername || ev.recipient;
  return from || to ? `${from} → ${to}` : "";
}

// row is an event's line in a table; clicking it opens the detail.
export function row(ev: Event, open: (ev: Event) => void): HTMLTableRowElement {
  const received = ev.receiveTime ? time(timestampDate(ev.receiveTime)) : "";
  const tr = h(
    "tr",
    { "data-cursor": String(ev.cursor), "data-selector": ev.selector, tabindex: 0 },
    h("td", { class: "num" }, String(ev.cursor)),
    h("td", { class: "time" }, received),
    h("td", { class: "selector" }, ev.selector),
    h("td", {}, ev.appkey),
    h("td", {}, who(ev)),
    h("td", { class: "summary" }, summary(ev)),
  );
  const select = () => {
    tr.parentElement?.querySelectorAll("tr.selected").forEach((r) => r.classList.remove("selected"));
    tr.classList.add("selected");
    open(ev);
  };
  tr.addEventListener("click", select);
  tr.addEventListener("keydown", (e) => {
    if (e.key === "Enter") select();
  });
  return tr;
}

export function eventsTable(id: string): { table: HTMLTableElement; body: HTMLTableSectionElement } {
  const body = h("tbody", { id });
  const table = h(
    "table",
    { class: "events" },
    h(
      "thead",
      {},
      h("tr", {}, h("th", {}, "cursor"), h("th", {}, "received"), h("th", {}, "selector"), h("th", {}, "app"), h("th", {}, "from → to"), h("th", {}, "summary")),
    ),
    body,
  );
  return { table, body };
}

const decoder = new TextDecoder("utf-8", { fatal: false });

// showDetail fills panel with ev. A streamed event comes without its raw
// body (the streams' basic view): it is read again by cursor, in full.
export async function showDetail(panel: HTMLElement, ev: Event): Promise<void> {
  fill(panel, h("p", { class: "muted" }, `event ${ev.cursor}…`));
  let full = ev;
  if (ev.rawBody.length === 0) {
    try {
      // GetEvent answers the event itself over REST (its response_body).
      full = await call(EventSchema, "GET", `/v1/events/${ev.cursor}`);
    } catch (err) {
      fill(panel, detail(ev), errorBox(err));
      return;
    }
  }
  fill(panel, detail(full));
}

// withUsername shows a vendor address and, when it differs, the username in it.
function withUsername(address: string, username: string): string {
  return username && username !== address ? `${address} (${username})` : address;
}

function detail(ev: Event): HTMLElement {
  const date = (t: Event["receiveTime"]) => (t ? time(timestampDate(t)) : "");
  const fields: [string, string][] = [
    ["cursor", String(ev.cursor)],
    ["selector", ev.selector],
    ["callId", ev.callId],
    ["eventType", `${EventType[ev.eventType] ?? ev.eventType}${ev.eventTypeName ? ` (${ev.eventTypeName})` : ""}`],
    ["verification", Verification[ev.verification] ?? String(ev.verification)],
    ["appkey", ev.appkey],
    ["sender", withUsername(ev.sender, ev.senderUsername)],
    ["recipient", withUsername(ev.recipient, ev.recipientUsername)],
    ["chatType", ev.chatType],
    ["groupId", ev.groupId],
    ["msgId", ev.msgId],
    ["relatedMsgId", ev.relatedMsgId],
    ["vendorTime", date(ev.vendorTime)],
    ["receiveTime", date(ev.receiveTime)],
    ["host", ev.host],
    ["securityVersion", ev.securityVersion],
  ];
  const dl = h("dl", { class: "fields" });
  for (const [k, v] of fields) {
    if (v === "") continue;
    dl.append(h("dt", {}, k), h("dd", { "data-field": k }, v));
  }
  // The body, typed: its case and its fields as protojson writes them.
  const json = toJson(EventSchema, ev) as { [k: string]: JsonValue };
  const bodyCase = ev.body.case;
  const raw = decoder.decode(ev.rawBody);
  return h(
    "div",
    { class: "detail", "data-cursor": String(ev.cursor) },
    h("h3", {}, `${ev.selector} · cursor ${ev.cursor}`),
    dl,
    bodyCase !== undefined && h("h4", {}, `body: ${bodyCase}`),
    bodyCase !== undefined && h("pre", { class: "typed-body" }, JSON.stringify(json[bodyCase], null, 2)),
    h("h4", {}, `raw body, as received (${ev.rawBody.length} bytes)`),
    h("pre", { class: "raw-body" }, raw || "(not kept)"),
  );
}
