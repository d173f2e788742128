// A few helpers to build the page without a framework. Text is always set
// as text, never as HTML: events carry what strangers wrote.
import { ApiError } from "./api";

type Child = Node | string | number | null | undefined | false;
type Attr = string | number | boolean | undefined | ((ev: Event) => void);

// h makes an element: attributes (an `on…` one is a listener, `true` sets
// a bare attribute, false or undefined leaves it out) and children.
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, Attr> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false && v !== undefined) el.setAttribute(k, String(v));
  }
  append(el, ...children);
  return el;
}

export function append(el: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === "object" ? c : document.createTextNode(String(c)));
  }
}

// fill replaces the children of el.
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

// errorBox shows an error as the API returned it: the one-line summary,
// the ErrorInfo metadata, and the answer's body as it came.
export function errorBox(err: unknown): HTMLElement {
  if (err instanceof ApiError) {
    const meta = Object.entries(err.metadata);
    return h(
      "div",
      { class: "error", role: "alert", "data-code": err.code, "data-reason": err.reason },
      h("div", { class: "error-summary" }, err.summary()),
      meta.length > 0 && h("div", { class: "error-meta" }, meta.map(([k, v]) => `${k}=${v}`).join("  ")),
      err.httpStatus === 401 && h("div", { class: "error-hint" }, "This imbridge wants an API key: enter it at the top right."),
      err.body && h("details", {}, h("summary", {}, "answer"), h("pre", {}, err.body)),
    );
  }
  return h("div", { class: "error", role: "alert" }, h("div", { class: "error-summary" }, String(err)));
}

// field is a labelled input.
export function field(label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement): HTMLLabelElement {
  return h("label", { class: "field" }, h("span", {}, label), input);
}

// input makes a text input.
export function input(id: string, placeholder = "", value = ""): HTMLInputElement {
  const el = h("input", { id, placeholder, type: "text", autocomplete: "off", spellcheck: "false" });
  el.value = value;
  return el;
}

// words splits a list typed by hand: commas or spaces.
export function words(s: string): string[] {
  return s.split(/[\s,]+/).filter((w) => w !== "");
}

// time shows a date as local time with milliseconds, or "" for none.
export function time(d: Date | undefined): string {
  if (!d || isNaN(d.getTime())) return "";
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}
