from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from imbridge.v1 import event_service_pb2 as _event_service_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class CallbackCounts(_message.Message):
    __slots__ = ["dropped", "duplicate", "family", "received", "stored"]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    STORED_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    duplicate: int
    family: str
    received: int
    stored: int
    def __init__(self, family: _Optional[str] = ..., received: _Optional[int] = ..., stored: _Optional[int] = ..., duplicate: _Optional[int] = ..., dropped: _Optional[int] = ...) -> None: ...

class GetStatusRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetStatusResponse(_message.Message):
    __slots__ = ["callbacks", "epoch", "head_cursor", "read_time", "refusals", "start_time", "streams", "subscriptions"]
    CALLBACKS_FIELD_NUMBER: _ClassVar[int]
    EPOCH_FIELD_NUMBER: _ClassVar[int]
    HEAD_CURSOR_FIELD_NUMBER: _ClassVar[int]
    READ_TIME_FIELD_NUMBER: _ClassVar[int]
    REFUSALS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    STREAMS_FIELD_NUMBER: _ClassVar[int]
    SUBSCRIPTIONS_FIELD_NUMBER: _ClassVar[int]
    callbacks: _containers.RepeatedCompositeFieldContainer[CallbackCounts]
    epoch: str
    head_cursor: int
    read_time: _timestamp_pb2.Timestamp
    refusals: _containers.RepeatedCompositeFieldContainer[RefusalCount]
    start_time: _timestamp_pb2.Timestamp
    streams: _containers.RepeatedCompositeFieldContainer[StreamStatus]
    subscriptions: _containers.RepeatedCompositeFieldContainer[_event_service_pb2.Subscription]
    def __init__(self, read_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., start_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., head_cursor: _Optional[int] = ..., epoch: _Optional[str] = ..., callbacks: _Optional[_Iterable[_Union[CallbackCounts, _Mapping]]] = ..., refusals: _Optional[_Iterable[_Union[RefusalCount, _Mapping]]] = ..., streams: _Optional[_Iterable[_Union[StreamStatus, _Mapping]]] = ..., subscriptions: _Optional[_Iterable[_Union[_event_service_pb2.Subscription, _Mapping]]] = ...) -> None: ...

class RefusalCount(_message.Message):
    __slots__ = ["count", "family", "reason"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    count: int
    family: str
    reason: str
    def __init__(self, reason: _Optional[str] = ..., family: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class StreamStatus(_message.Message):
    __slots__ = ["filter", "lag", "open_time", "scanned_cursor", "sent", "source"]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    OPEN_TIME_FIELD_NUMBER: _ClassVar[int]
    SCANNED_CURSOR_FIELD_NUMBER: _ClassVar[int]
    SENT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    filter: _event_service_pb2.EventFilter
    lag: int
    open_time: _timestamp_pb2.Timestamp
    scanned_cursor: int
    sent: int
    source: str
    def __init__(self, source: _Optional[str] = ..., filter: _Optional[_Union[_event_service_pb2.EventFilter, _Mapping]] = ..., open_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., scanned_cursor: _Optional[int] = ..., lag: _Optional[int] = ..., sent: _Optional[int] = ...) -> None: ...
