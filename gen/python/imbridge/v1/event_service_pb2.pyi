from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from imbridge.v1 import event_pb2 as _event_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
EVENT_VIEW_BASIC: EventView
EVENT_VIEW_FULL: EventView
EVENT_VIEW_UNSPECIFIED: EventView
LIST_ORDER_NEWEST_FIRST: ListOrder
LIST_ORDER_OLDEST_FIRST: ListOrder
LIST_ORDER_UNSPECIFIED: ListOrder
START_POSITION_EARLIEST: StartPosition
START_POSITION_LATEST: StartPosition
START_POSITION_UNSPECIFIED: StartPosition

class AcknowledgeEventsRequest(_message.Message):
    __slots__ = ["cursors", "subscription"]
    CURSORS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    cursors: _containers.RepeatedScalarFieldContainer[int]
    subscription: str
    def __init__(self, subscription: _Optional[str] = ..., cursors: _Optional[_Iterable[int]] = ...) -> None: ...

class AcknowledgeEventsResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class CreateSubscriptionRequest(_message.Message):
    __slots__ = ["parent", "subscription", "subscription_id"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    subscription: Subscription
    subscription_id: str
    def __init__(self, parent: _Optional[str] = ..., subscription_id: _Optional[str] = ..., subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class CreateSubscriptionResponse(_message.Message):
    __slots__ = ["subscription"]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class DeleteSubscriptionRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteSubscriptionResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class EventFilter(_message.Message):
    __slots__ = ["event_types", "group_id", "msg_id", "recipient", "room_kind", "selectors", "sender"]
    EVENT_TYPES_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    ROOM_KIND_FIELD_NUMBER: _ClassVar[int]
    SELECTORS_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    event_types: _containers.RepeatedScalarFieldContainer[_event_pb2.EventType]
    group_id: str
    msg_id: str
    recipient: str
    room_kind: _event_pb2.RoomKind
    selectors: _containers.RepeatedScalarFieldContainer[str]
    sender: str
    def __init__(self, selectors: _Optional[_Iterable[str]] = ..., sender: _Optional[str] = ..., recipient: _Optional[str] = ..., group_id: _Optional[str] = ..., event_types: _Optional[_Iterable[_Union[_event_pb2.EventType, str]]] = ..., room_kind: _Optional[_Union[_event_pb2.RoomKind, str]] = ..., msg_id: _Optional[str] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ["call_id", "cursor", "view"]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    call_id: str
    cursor: int
    view: EventView
    def __init__(self, cursor: _Optional[int] = ..., call_id: _Optional[str] = ..., view: _Optional[_Union[EventView, str]] = ...) -> None: ...

class GetEventResponse(_message.Message):
    __slots__ = ["event"]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    event: _event_pb2.Event
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ...) -> None: ...

class GetSubscriptionRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetSubscriptionResponse(_message.Message):
    __slots__ = ["subscription"]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    subscription: Subscription
    def __init__(self, subscription: _Optional[_Union[Subscription, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ["head_cursor", "scanned_cursor", "send_time"]
    HEAD_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SCANNED_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    head_cursor: int
    scanned_cursor: int
    send_time: _timestamp_pb2.Timestamp
    def __init__(self, head_cursor: _Optional[int] = ..., scanned_cursor: _Optional[int] = ..., send_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListEventsRequest(_message.Message):
    __slots__ = ["end_time", "filter", "order", "page_size", "page_token", "parent", "start_time", "view"]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    end_time: _timestamp_pb2.Timestamp
    filter: EventFilter
    order: ListOrder
    page_size: int
    page_token: str
    parent: str
    start_time: _timestamp_pb2.Timestamp
    view: EventView
    def __init__(self, parent: _Optional[str] = ..., filter: _Optional[_Union[EventFilter, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., order: _Optional[_Union[ListOrder, str]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., view: _Optional[_Union[EventView, str]] = ...) -> None: ...

class ListEventsResponse(_message.Message):
    __slots__ = ["events", "next_page_token"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_event_pb2.Event]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[_event_pb2.Event, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListSubscriptionsRequest(_message.Message):
    __slots__ = ["parent"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    parent: str
    def __init__(self, parent: _Optional[str] = ...) -> None: ...

class ListSubscriptionsResponse(_message.Message):
    __slots__ = ["subscriptions"]
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    subscriptions: _containers.RepeatedCompositeFieldContainer[Subscription]
    def __init__(self, subscriptions: _Optional[_Iterable[_Union[Subscription, _Mapping]]] = ...) -> None: ...

class SubscribeEventsRequest(_message.Message):
    __slots__ = ["after_cursor", "epoch", "filter", "heartbeat_interval", "max_outstanding", "parent", "position", "start_time", "subscription", "view"]
    AFTER_CURSOR_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_FIELD_NUMBER: _ClassVar[int]
    MAX_OUTSTANDING_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VIEW_FIELD_NUMBER: _ClassVar[int]
    after_cursor: int
    epoch: str
    filter: EventFilter
    heartbeat_interval: _duration_pb2.Duration
    max_outstanding: int
    parent: str
    position: StartPosition
    start_time: _timestamp_pb2.Timestamp
    subscription: str
    view: EventView
    def __init__(self, parent: _Optional[str] = ..., filter: _Optional[_Union[EventFilter, _Mapping]] = ..., position: _Optional[_Union[StartPosition, str]] = ..., after_cursor: _Optional[int] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., epoch: _Optional[str] = ..., view: _Optional[_Union[EventView, str]] = ..., heartbeat_interval: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., subscription: _Optional[str] = ..., max_outstanding: _Optional[int] = ...) -> None: ...

class SubscribeEventsResponse(_message.Message):
    __slots__ = ["delivery_attempt", "epoch", "event", "heartbeat"]
    DELIVERY_ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    delivery_attempt: int
    epoch: str
    event: _event_pb2.Event
    heartbeat: Heartbeat
    def __init__(self, event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., epoch: _Optional[str] = ..., delivery_attempt: _Optional[int] = ...) -> None: ...

class Subscription(_message.Message):
    __slots__ = ["ack_deadline", "backlog", "create_time", "filter", "max_delivery_attempts", "name", "start_position", "unacknowledged"]
    ACK_DEADLINE_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    MAX_DELIVERY_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    START_POSITION_FIELD_NUMBER: _ClassVar[int]
    UNACKNOWLEDGED_FIELD_NUMBER: _ClassVar[int]
    ack_deadline: _duration_pb2.Duration
    backlog: int
    create_time: _timestamp_pb2.Timestamp
    filter: EventFilter
    max_delivery_attempts: int
    name: str
    start_position: StartPosition
    unacknowledged: int
    def __init__(self, name: _Optional[str] = ..., filter: _Optional[_Union[EventFilter, _Mapping]] = ..., ack_deadline: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., max_delivery_attempts: _Optional[int] = ..., start_position: _Optional[_Union[StartPosition, str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., backlog: _Optional[int] = ..., unacknowledged: _Optional[int] = ...) -> None: ...

class EventView(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class StartPosition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ListOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
