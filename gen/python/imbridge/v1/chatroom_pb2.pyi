from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CHATROOM_ATTRIBUTE_AUTO_DELETE_DELETE: ChatroomAttributeAutoDelete
CHATROOM_ATTRIBUTE_AUTO_DELETE_NO_DELETE: ChatroomAttributeAutoDelete
CHATROOM_ATTRIBUTE_AUTO_DELETE_UNSPECIFIED: ChatroomAttributeAutoDelete
CHATROOM_MEMBER_ROLE_MEMBER: ChatroomMemberRole
CHATROOM_MEMBER_ROLE_OWNER: ChatroomMemberRole
CHATROOM_MEMBER_ROLE_UNSPECIFIED: ChatroomMemberRole
DESCRIPTOR: _descriptor.FileDescriptor

class BatchResult(_message.Message):
    __slots__ = ["reason", "success", "username"]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    reason: str
    success: bool
    username: str
    def __init__(self, username: _Optional[str] = ..., success: bool = ..., reason: _Optional[str] = ...) -> None: ...

class Chatroom(_message.Message):
    __slots__ = ["allow_invites", "create_time", "custom", "description", "display_name", "max_users", "member_count", "members", "members_only", "mute_all", "name", "owner"]
    ALLOW_INVITES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    MAX_USERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    MEMBERS_ONLY_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    MUTE_ALL_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    allow_invites: bool
    create_time: _timestamp_pb2.Timestamp
    custom: str
    description: str
    display_name: str
    max_users: int
    member_count: int
    members: _containers.RepeatedScalarFieldContainer[str]
    members_only: bool
    mute_all: bool
    name: str
    owner: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., max_users: _Optional[int] = ..., owner: _Optional[str] = ..., members: _Optional[_Iterable[str]] = ..., custom: _Optional[str] = ..., member_count: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., members_only: bool = ..., allow_invites: bool = ..., mute_all: bool = ...) -> None: ...

class ChatroomAnnouncement(_message.Message):
    __slots__ = ["name", "text"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    name: str
    text: str
    def __init__(self, name: _Optional[str] = ..., text: _Optional[str] = ...) -> None: ...

class ChatroomMember(_message.Message):
    __slots__ = ["role", "username"]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    role: ChatroomMemberRole
    username: str
    def __init__(self, username: _Optional[str] = ..., role: _Optional[_Union[ChatroomMemberRole, str]] = ...) -> None: ...

class ChatroomMute(_message.Message):
    __slots__ = ["expire_time", "username"]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    expire_time: _timestamp_pb2.Timestamp
    username: str
    def __init__(self, username: _Optional[str] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChatroomMuteResult(_message.Message):
    __slots__ = ["expire_time", "reason", "success", "username"]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    expire_time: _timestamp_pb2.Timestamp
    reason: str
    success: bool
    username: str
    def __init__(self, username: _Optional[str] = ..., success: bool = ..., reason: _Optional[str] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class JoinedChatroom(_message.Message):
    __slots__ = ["disabled", "display_name", "name"]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    disabled: bool
    display_name: str
    name: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., disabled: bool = ...) -> None: ...

class MemberTag(_message.Message):
    __slots__ = ["expire_time", "tag"]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    expire_time: _timestamp_pb2.Timestamp
    tag: str
    def __init__(self, tag: _Optional[str] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ChatroomMemberRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ChatroomAttributeAutoDelete(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
