// The console's only way to imbridge: the REST gateway of the origin that
// served the page, with fetch. Every call carries the API key the user
// typed (when there is one) as `Authorization: Bearer`; every answer is
// decoded into the generated message types with fromJson, and every error
// is an ApiError holding what the API returned.
import { fromJson, type DescMessage, type JsonValue, type MessageShape } from "@bufbuild/protobuf";

// The key lives in sessionStorage: it survives a reload of the tab, which
// an operator does, but not the tab itself, and it is not shared with
// other tabs or left on disk for the next person at the machine, as
// localStorage would leave it. A bearer key is a credential: the shorter it
// is kept, the better.
const keyItem = "imbridge.console.apiKey";

export function apiKey(): string {
  return sessionStorage.getItem(keyItem) ?? "";
}

export function setAPIKey(key: string): void {
  if (key) sessionStorage.setItem(keyItem, key);
  else sessionStorage.removeItem(keyItem);
}

// The canonical gRPC code names, by number, as the API's `code` carries them.
const codeNames = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
  "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
  "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

// ApiError is an error the API answered (a google.rpc.Status in JSON), or
// a request that got no answer at all (httpStatus 0).
export class ApiError extends Error {
  constructor(
    // The HTTP status; 0 when no answer came (network, CORS), 200 for an
    // error line ending a stream.
    readonly httpStatus: number,
    // The canonical code's name: NOT_FOUND, UNAVAILABLE…
    readonly code: string,
    message: string,
    // The google.rpc.ErrorInfo reason, when there is one.
    readonly reason: string,
    readonly metadata: Record<string, string>,
    // The answer exactly as it came, to show.
    readonly body: string,
  ) {
    super(message);
    this.name = "ApiError";
  }

  // Whether calling again later may work (the API's own rule: UNAVAILABLE
  // and RESOURCE_EXHAUSTED), or no answer came.
  get retryable(): boolean {
    return this.httpStatus === 0 || this.code === "UNAVAILABLE" || this.code === "RESOURCE_EXHAUSTED";
  }

  // One line: "404 NOT_FOUND EVENT_NOT_FOUND: no event with cursor 42".
  summary(): string {
    const status = this.httpStatus ? `${this.httpStatus} ` : "";
    const reason = this.reason && this.reason !== this.code ? ` ${this.reason}` : "";
    return `${status}${this.code}${reason}: ${this.message}`;
  }
}

type JsonObject = { [k: string]: JsonValue };

function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

// errorOf reads a google.rpc.Status (already parsed, or as text).
function errorOf(httpStatus: number, status: unknown, body: string): ApiError {
  if (!isObject(status)) {
    return new ApiError(httpStatus, httpStatus ? `HTTP_${httpStatus}` : "NO_ANSWER", body || "no answer", "", {}, body);
  }
  const code = typeof status.code === "number" ? (codeNames[status.code] ?? `CODE_${status.code}`) : `HTTP_${httpStatus}`;
  let reason = "";
  let metadata: Record<string, string> = {};
  for (const d of Array.isArray(status.details) ? status.details : []) {
    if (isObject(d) && d["@type"] === "type.googleapis.com/google.rpc.ErrorInfo") {
      reason = typeof d.reason === "string" ? d.reason : "";
      if (isObject(d.metadata)) {
        metadata = Object.fromEntries(Object.entries(d.metadata).map(([k, v]) => [k, String(v)]));
      }
    }
  }
  const message = typeof status.message === "string" ? status.message : "";
  return new ApiError(httpStatus, code, message, reason, metadata, body);
}

function headers(json: boolean): Headers {
  const h = new Headers({ Accept: "application/json" });
  const key = apiKey();
  if (key) h.set("Authorization", `Bearer ${key}`);
  if (json) h.set("Content-Type", "application/json");
  return h;
}

// send makes one request and returns the JSON of a 2xx answer.
async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<JsonValue> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: headers(body !== undefined),
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (e) {
    if (signal?.aborted) throw e;
    throw new ApiError(0, "NO_ANSWER", `no answer from imbridge: ${String(e)}`, "", {}, "");
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = undefined;
  }
  if (!res.ok) throw errorOf(res.status, json, text);
  if (json === undefined) throw new ApiError(res.status, "BAD_ANSWER", "the answer is not JSON", "", {}, text);
  return json as JsonValue;
}

// The decoding options: a newer imbridge may add fields this console does
// not know; they are left out, not an error.
const readOptions = { ignoreUnknownFields: true };

// call makes a request and decodes its answer into schema's message.
export async function call<Desc extends DescMessage>(
  schema: Desc,
  method: string,
  path: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<MessageShape<Desc>> {
  const json = await send(method, path, body, signal);
  try {
    return fromJson(schema, json, readOptions);
  } catch (e) {
    throw new ApiError(200, "BAD_ANSWER", `cannot read the answer as ${schema.typeName}: ${String(e)}`, "", {}, JSON.stringify(json));
  }
}

// query builds a query string; arrays become repeated parameters, and
// empty values are left out.
export function query(params: Record<string, string | number | string[] | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (Array.isArray(v)) v.forEach((x) => q.append(k, x));
    else if (v !== undefined && v !== "") q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

// stream reads a server stream: newline-delimited JSON, one
// `{"result": …}` per message, a last `{"error": …}` when it ends with an
// error (thrown as ApiError). It returns when the server ends the stream
// and throws the abort error when signal aborts it. onOpen runs once the
// answer's headers came. With silentMs, a stream that sends nothing for
// that long (its connection gone without closing: a dropped NAT entry, a
// laptop's sleep) ends with a retryable NO_ANSWER: ask for heartbeats
// more often than that.
export async function stream<Desc extends DescMessage>(
  schema: Desc,
  path: string,
  signal: AbortSignal,
  onOpen: () => void,
  onMessage: (msg: MessageShape<Desc>) => void,
  silentMs = 0,
): Promise<void> {
  const cut = new AbortController(); // signal's abort, or silence
  const follow = () => cut.abort(signal.reason);
  signal.addEventListener("abort", follow);
  let silent = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const alive = () => {
    clearTimeout(timer);
    if (silentMs > 0) timer = setTimeout(() => ((silent = true), cut.abort()), silentMs);
  };
  const noAnswer = (what: string, e: unknown) => {
    if (signal.aborted) return e;
    const why = silent ? `the stream sent nothing for ${silentMs / 1000}s` : `${what}: ${String(e)}`;
    return new ApiError(0, "NO_ANSWER", why, "", {}, "");
  };
  alive();
  try {
    let res: Response;
    try {
      res = await fetch(path, { headers: headers(false), signal: cut.signal });
    } catch (e) {
      throw noAnswer("no answer from imbridge", e);
    }
    if (!res.ok || !res.body) {
      const text = await res.text();
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      // A stream refused before its first message answers the status as a
      // stream's last line does: {"error": {code, message, details}}.
      const wrapped = typeof json === "object" && json !== null && "error" in json ? (json as { error: unknown }).error : undefined;
      throw errorOf(res.status, typeof wrapped === "object" && wrapped !== null ? wrapped : json, text);
    }
    onOpen();
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = "";
    try {
      for (;;) {
        let chunk: ReadableStreamReadResult<string>;
        try {
          chunk = await reader.read();
        } catch (e) {
          throw noAnswer("the stream broke", e);
        }
        if (chunk.done) return;
        alive();
        buf += chunk.value;
        for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (!line) continue;
          const obj: unknown = JSON.parse(line);
          if (!isObject(obj)) continue;
          if (obj.error !== undefined) throw errorOf(200, obj.error, line);
          if (obj.result !== undefined) onMessage(fromJson(schema, obj.result, readOptions));
        }
      }
    } finally {
      reader.releaseLock();
    }
  } finally {
    clearTimeout(timer);
    signal.removeEventListener("abort", follow);
  }
}

// parentOf turns an appkey (`org#app`) into the resource name of the app;
// empty is every app, `orgs/-/apps/-`.
export function parentOf(appkey: string): string {
  const [org, app] = appkey.trim().split("#");
  if (!org || !app) return "orgs/-/apps/-";
  return `orgs/${encodeURIComponent(org)}/apps/${encodeURIComponent(app)}`;
}
