"""A Python client of imbridge over gRPC, from the generated package in
gen/python (imbridge-client) and grpcio: list stored events, follow the live
stream, create a chatroom.

    python example.py HOST:PORT ORG#APP [COUNT]

The key, when the server wants one, comes from IMBRIDGE_API_KEY. It prints
one line per step, as clients/ts/example.ts does; the tests run it against a
live imbridge.
"""

import os
import sys

import grpc

from imbridge.v1 import chatroom_pb2, chatroom_service_pb2, chatroom_service_pb2_grpc
from imbridge.v1 import event_service_pb2, event_service_pb2_grpc


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3) or "#" not in argv[1]:
        raise SystemExit("usage: python example.py HOST:PORT ORG#APP [COUNT]")
    addr, appkey = argv[0], argv[1]
    count = int(argv[2]) if len(argv) == 3 else 1
    org, app = appkey.split("#", 1)
    key = os.environ.get("IMBRIDGE_API_KEY", "")
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    parent = f"orgs/{org}/apps/{app}"

    with grpc.insecure_channel(addr) as channel:
        events = event_service_pb2_grpc.EventServiceStub(channel)
        rooms = chatroom_service_pb2_grpc.ChatroomServiceStub(channel)

        # History: the newest stored events of the app.
        page: event_service_pb2.ListEventsResponse = events.ListEvents(
            event_service_pb2.ListEventsRequest(parent=parent, page_size=10), metadata=metadata
        )
        print(f"listed {len(page.events)} {','.join(e.selector for e in page.events)}", flush=True)

        # The stream, from the oldest event kept: print COUNT events, then stop.
        stream = events.SubscribeEvents(
            event_service_pb2.SubscribeEventsRequest(
                parent=parent, position=event_service_pb2.START_POSITION_EARLIEST
            ),
            metadata=metadata,
        )
        seen = 0
        for m in stream:
            if m.WhichOneof("kind") != "event":
                continue
            ev = m.event
            print(f"event {ev.cursor} {ev.selector} {ev.call_id} epoch={m.epoch}", flush=True)
            seen += 1
            if seen >= count:
                stream.cancel()
                break

        # Administration: a chatroom created through imbridge.
        created: chatroom_service_pb2.CreateChatroomResponse = rooms.CreateChatroom(
            chatroom_service_pb2.CreateChatroomRequest(
                parent=parent,
                chatroom=chatroom_pb2.Chatroom(
                    display_name="from Python",
                    description="made by clients/python/example.py",
                    owner="alice",
                ),
            ),
            metadata=metadata,
        )
        print(f"created {created.chatroom.name}", flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except grpc.RpcError as err:
        sys.exit(f"example: {err.code().name} {err.details()}")
