// A TypeScript client of imbridge over gRPC, from the generated package
// @imbridge/api (gen/ts) and @connectrpc/connect-node: list stored events,
// follow the live stream, create a chatroom.
//
//   node example.js HOST:PORT ORG#APP [COUNT]
//
// The key, when the server wants one, comes from IMBRIDGE_API_KEY. It
// prints one line per step; the tests run it against a live imbridge.
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { ChatroomService } from "@imbridge/api/imbridge/v1/chatroom_service_pb";
import { EventService, StartPosition } from "@imbridge/api/imbridge/v1/event_service_pb";

async function main(): Promise<void> {
  const [addr, appkey, count = "1"] = process.argv.slice(2);
  if (!addr || !appkey?.includes("#")) {
    throw new Error("usage: node example.js HOST:PORT ORG#APP [COUNT]");
  }
  const [org, app] = appkey.split("#");
  const key = process.env.IMBRIDGE_API_KEY ?? "";
  const bearer: Interceptor = (next) => (req) => {
    if (key) req.header.set("authorization", `Bearer ${key}`);
    return next(req);
  };
  const transport = createGrpcTransport({ baseUrl: `http://${addr}`, interceptors: [bearer] });
  const events = createClient(EventService, transport);
  const rooms = createClient(ChatroomService, transport);
  const parent = `orgs/${org}/apps/${app}`;

  // History: the newest stored events of the app.
  const page = await events.listEvents({ parent, pageSize: 10 });
  console.log(`listed ${page.events.length} ${page.events.map((e) => e.selector).join(",")}`);

  // The stream, from the oldest event kept: print COUNT events, then stop.
  const stop = new AbortController();
  let seen = 0;
  const stream = events.subscribeEvents(
    { parent, start: { case: "position", value: StartPosition.EARLIEST } },
    { signal: stop.signal },
  );
  for await (const m of stream) {
    if (m.kind.case !== "event") continue;
    const ev = m.kind.value;
    console.log(`event ${ev.cursor} ${ev.selector} ${ev.callId} epoch=${m.epoch}`);
    if (++seen >= Number(count)) {
      stop.abort();
      break;
    }
  }

  // Administration: a chatroom created through imbridge.
  const created = await rooms.createChatroom({
    parent,
    chatroom: { displayName: "from TypeScript", description: "made by clients/ts/example.ts", owner: "alice" },
  });
  console.log(`created ${created.chatroom?.name ?? ""}`);
}

main().catch((err: unknown) => {
  console.error(`example: ${String(err)}`);
  process.exitCode = 1;
});
