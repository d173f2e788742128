from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

CONVERSATION_CHAT: Conversation
CONVERSATION_CHATROOM: Conversation
CONVERSATION_GROUPCHAT: Conversation
CONVERSATION_UNSPECIFIED: Conversation
DESCRIPTOR: _descriptor.FileDescriptor
EVENT_TYPE_CHAT: EventType
EVENT_TYPE_CHAT_OFFLINE: EventType
EVENT_TYPE_KEYWORD_ALERT: EventType
EVENT_TYPE_OTHER: EventType
EVENT_TYPE_UNSPECIFIED: EventType
MUC_OPERATION_ABSENCE: MucOperation
MUC_OPERATION_ADD_ADMIN: MucOperation
MUC_OPERATION_ADD_MUTE: MucOperation
MUC_OPERATION_ADD_SUPER_ADMIN: MucOperation
MUC_OPERATION_ADD_USER_WHITE_LIST: MucOperation
MUC_OPERATION_ALLOW: MucOperation
MUC_OPERATION_APPLY: MucOperation
MUC_OPERATION_APPLY_ACCEPT: MucOperation
MUC_OPERATION_ASSING_OWNER: MucOperation
MUC_OPERATION_BAN: MucOperation
MUC_OPERATION_BAN_GROUP: MucOperation
MUC_OPERATION_BLOCK: MucOperation
MUC_OPERATION_CREATE: MucOperation
MUC_OPERATION_DELETE_ANNOUNCEMENT: MucOperation
MUC_OPERATION_DELETE_FILE: MucOperation
MUC_OPERATION_DELETE_METADATA: MucOperation
MUC_OPERATION_DESTROY: MucOperation
MUC_OPERATION_DIRECT_JOINED: MucOperation
MUC_OPERATION_DISABLE: MucOperation
MUC_OPERATION_ENABLE: MucOperation
MUC_OPERATION_GROUP_MEMBER_METADATA_UPDATE: MucOperation
MUC_OPERATION_INVITE: MucOperation
MUC_OPERATION_INVITE_ACCEPT: MucOperation
MUC_OPERATION_INVITE_DECLINE: MucOperation
MUC_OPERATION_KICK: MucOperation
MUC_OPERATION_LEAVE: MucOperation
MUC_OPERATION_PRESENCE: MucOperation
MUC_OPERATION_REMOVE_ADMIN: MucOperation
MUC_OPERATION_REMOVE_BAN_GROUP: MucOperation
MUC_OPERATION_REMOVE_MUTE: MucOperation
MUC_OPERATION_REMOVE_SUPER_ADMIN: MucOperation
MUC_OPERATION_REMOVE_USER_WHITE_LIST: MucOperation
MUC_OPERATION_SET_METADATA: MucOperation
MUC_OPERATION_UNBLOCK: MucOperation
MUC_OPERATION_UNSPECIFIED: MucOperation
MUC_OPERATION_UPDATE: MucOperation
MUC_OPERATION_UPDATE_ANNOUNCEMENT: MucOperation
MUC_OPERATION_UPLOAD_FILE: MucOperation
ROOM_KIND_CHATROOM: RoomKind
ROOM_KIND_GROUP: RoomKind
ROOM_KIND_UNSPECIFIED: RoomKind
ROSTER_OPERATION_ACCEPT: RosterOperation
ROSTER_OPERATION_ADD: RosterOperation
ROSTER_OPERATION_ALLOW: RosterOperation
ROSTER_OPERATION_BAN: RosterOperation
ROSTER_OPERATION_DECLINE: RosterOperation
ROSTER_OPERATION_REMOVE: RosterOperation
ROSTER_OPERATION_UNSPECIFIED: RosterOperation
USER_STATUS_REASON_LOGIN: UserStatusReason
USER_STATUS_REASON_LOGOUT: UserStatusReason
USER_STATUS_REASON_REPLACED: UserStatusReason
USER_STATUS_REASON_UNSPECIFIED: UserStatusReason
VERIFICATION_SIGNED: Verification
VERIFICATION_UNSIGNED_ALLOWED: Verification
VERIFICATION_UNSPECIFIED: Verification

class AckEvent(_message.Message):
    __slots__ = ["ack_message_id", "ack_type", "channel", "ext"]
    ACK_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    ACK_TYPE_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    EXT_FIELD_NUMBER: _ClassVar[int]
    ack_message_id: str
    ack_type: str
    channel: str
    ext: _struct_pb2.Struct
    def __init__(self, ack_message_id: _Optional[str] = ..., ack_type: _Optional[str] = ..., ext: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., channel: _Optional[str] = ...) -> None: ...

class AudioBody(_message.Message):
    __slots__ = ["file_length", "filename", "length", "secret", "url"]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    file_length: int
    filename: str
    length: int
    secret: str
    url: str
    def __init__(self, filename: _Optional[str] = ..., secret: _Optional[str] = ..., file_length: _Optional[int] = ..., length: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class CommandBody(_message.Message):
    __slots__ = ["action", "msg"]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    MSG_FIELD_NUMBER: _ClassVar[int]
    action: str
    msg: str
    def __init__(self, action: _Optional[str] = ..., msg: _Optional[str] = ...) -> None: ...

class CustomBody(_message.Message):
    __slots__ = ["custom_event", "custom_exts", "v2_custom_exts"]
    class V2CustomExtsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CUSTOM_EVENT_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_EXTS_FIELD_NUMBER: _ClassVar[int]
    V2_CUSTOM_EXTS_FIELD_NUMBER: _ClassVar[int]
    custom_event: str
    custom_exts: _struct_pb2.ListValue
    v2_custom_exts: _containers.ScalarMap[str, str]
    def __init__(self, custom_event: _Optional[str] = ..., custom_exts: _Optional[_Union[_struct_pb2.ListValue, _Mapping]] = ..., v2_custom_exts: _Optional[_Mapping[str, str]] = ...) -> None: ...

class EditEvent(_message.Message):
    __slots__ = ["bodies", "conversation", "edit_count", "edit_time", "edited_msg_id", "ext", "operator", "original_send_time", "original_sender"]
    BODIES_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    EDITED_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    EDIT_COUNT_FIELD_NUMBER: _ClassVar[int]
    EDIT_TIME_FIELD_NUMBER: _ClassVar[int]
    EXT_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_SENDER_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_SEND_TIME_FIELD_NUMBER: _ClassVar[int]
    bodies: _containers.RepeatedCompositeFieldContainer[MessageBody]
    conversation: Conversation
    edit_count: int
    edit_time: _timestamp_pb2.Timestamp
    edited_msg_id: str
    ext: _struct_pb2.Struct
    operator: str
    original_send_time: _timestamp_pb2.Timestamp
    original_sender: str
    def __init__(self, edited_msg_id: _Optional[str] = ..., conversation: _Optional[_Union[Conversation, str]] = ..., bodies: _Optional[_Iterable[_Union[MessageBody, _Mapping]]] = ..., ext: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., operator: _Optional[str] = ..., original_sender: _Optional[str] = ..., original_send_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., edit_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., edit_count: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ["appkey", "call_id", "channel_ack", "chat_type", "cursor", "edit", "event_type", "event_type_name", "group_id", "group_op", "host", "keyword_alert", "message", "moderation", "msg_id", "muc", "push", "raw_body", "reaction", "read_ack", "recall", "receive_time", "recipient", "recipient_username", "related_msg_id", "roster", "security_version", "selector", "sender", "sender_username", "thread", "unknown", "user_status", "vendor_time", "verification"]
    APPKEY_FIELD_NUMBER: _ClassVar[int]
    CALL_ID_FIELD_NUMBER: _ClassVar[int]
    CHANNEL_ACK_FIELD_NUMBER: _ClassVar[int]
    CHAT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    EDIT_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_NAME_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_OP_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    KEYWORD_ALERT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MODERATION_FIELD_NUMBER: _ClassVar[int]
    MSG_ID_FIELD_NUMBER: _ClassVar[int]
    MUC_FIELD_NUMBER: _ClassVar[int]
    PUSH_FIELD_NUMBER: _ClassVar[int]
    RAW_BODY_FIELD_NUMBER: _ClassVar[int]
    REACTION_FIELD_NUMBER: _ClassVar[int]
    READ_ACK_FIELD_NUMBER: _ClassVar[int]
    RECALL_FIELD_NUMBER: _ClassVar[int]
    RECEIVE_TIME_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_USERNAME_FIELD_NUMBER: _ClassVar[int]
    RELATED_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    ROSTER_FIELD_NUMBER: _ClassVar[int]
    SECURITY_VERSION_FIELD_NUMBER: _ClassVar[int]
    SELECTOR_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    SENDER_USERNAME_FIELD_NUMBER: _ClassVar[int]
    THREAD_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    USER_STATUS_FIELD_NUMBER: _ClassVar[int]
    VENDOR_TIME_FIELD_NUMBER: _ClassVar[int]
    VERIFICATION_FIELD_NUMBER: _ClassVar[int]
    appkey: str
    call_id: str
    channel_ack: AckEvent
    chat_type: str
    cursor: int
    edit: EditEvent
    event_type: EventType
    event_type_name: str
    group_id: str
    group_op: GroupOpEvent
    host: str
    keyword_alert: KeywordAlertEvent
    message: MessageEvent
    moderation: ModerationEvent
    msg_id: str
    muc: MucEvent
    push: PushEvent
    raw_body: bytes
    reaction: ReactionEvent
    read_ack: AckEvent
    recall: RecallEvent
    receive_time: _timestamp_pb2.Timestamp
    recipient: str
    recipient_username: str
    related_msg_id: str
    roster: RosterEvent
    security_version: str
    selector: str
    sender: str
    sender_username: str
    thread: ThreadEvent
    unknown: UnknownEvent
    user_status: UserStatusEvent
    vendor_time: _timestamp_pb2.Timestamp
    verification: Verification
    def __init__(self, cursor: _Optional[int] = ..., call_id: _Optional[str] = ..., event_type: _Optional[_Union[EventType, str]] = ..., event_type_name: _Optional[str] = ..., vendor_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., chat_type: _Optional[str] = ..., group_id: _Optional[str] = ..., sender: _Optional[str] = ..., recipient: _Optional[str] = ..., msg_id: _Optional[str] = ..., appkey: _Optional[str] = ..., host: _Optional[str] = ..., security_version: _Optional[str] = ..., receive_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., selector: _Optional[str] = ..., raw_body: _Optional[bytes] = ..., verification: _Optional[_Union[Verification, str]] = ..., sender_username: _Optional[str] = ..., recipient_username: _Optional[str] = ..., related_msg_id: _Optional[str] = ..., message: _Optional[_Union[MessageEvent, _Mapping]] = ..., recall: _Optional[_Union[RecallEvent, _Mapping]] = ..., muc: _Optional[_Union[MucEvent, _Mapping]] = ..., roster: _Optional[_Union[RosterEvent, _Mapping]] = ..., read_ack: _Optional[_Union[AckEvent, _Mapping]] = ..., channel_ack: _Optional[_Union[AckEvent, _Mapping]] = ..., user_status: _Optional[_Union[UserStatusEvent, _Mapping]] = ..., keyword_alert: _Optional[_Union[KeywordAlertEvent, _Mapping]] = ..., reaction: _Optional[_Union[ReactionEvent, _Mapping]] = ..., thread: _Optional[_Union[ThreadEvent, _Mapping]] = ..., unknown: _Optional[_Union[UnknownEvent, _Mapping]] = ..., group_op: _Optional[_Union[GroupOpEvent, _Mapping]] = ..., edit: _Optional[_Union[EditEvent, _Mapping]] = ..., moderation: _Optional[_Union[ModerationEvent, _Mapping]] = ..., push: _Optional[_Union[PushEvent, _Mapping]] = ...) -> None: ...

class FileBody(_message.Message):
    __slots__ = ["file_length", "filename", "secret", "url"]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    file_length: int
    filename: str
    secret: str
    url: str
    def __init__(self, filename: _Optional[str] = ..., secret: _Optional[str] = ..., file_length: _Optional[int] = ..., url: _Optional[str] = ...) -> None: ...

class GroupOpEvent(_message.Message):
    __slots__ = ["action", "announcement", "disabled", "expire_time", "file_ids", "info", "join_ext", "kind", "member_count", "mute_all", "new_owner", "operation", "operation_name", "operator", "payload", "previous_owner", "roles", "sub_event", "users"]
    class RolesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCEMENT_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    FILE_IDS_FIELD_NUMBER: _ClassVar[int]
    INFO_FIELD_NUMBER: _ClassVar[int]
    JOIN_EXT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MEMBER_COUNT_FIELD_NUMBER: _ClassVar[int]
    MUTE_ALL_FIELD_NUMBER: _ClassVar[int]
    NEW_OWNER_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_NAME_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_OWNER_FIELD_NUMBER: _ClassVar[int]
    ROLES_FIELD_NUMBER: _ClassVar[int]
    SUB_EVENT_FIELD_NUMBER: _ClassVar[int]
    USERS_FIELD_NUMBER: _ClassVar[int]
    action: str
    announcement: str
    disabled: bool
    expire_time: _timestamp_pb2.Timestamp
    file_ids: _containers.RepeatedScalarFieldContainer[str]
    info: _struct_pb2.Struct
    join_ext: str
    kind: RoomKind
    member_count: int
    mute_all: bool
    new_owner: str
    operation: MucOperation
    operation_name: str
    operator: str
    payload: _struct_pb2.Struct
    previous_owner: str
    roles: _containers.ScalarMap[str, str]
    sub_event: str
    users: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kind: _Optional[_Union[RoomKind, str]] = ..., operation_name: _Optional[str] = ..., sub_event: _Optional[str] = ..., operation: _Optional[_Union[MucOperation, str]] = ..., operator: _Optional[str] = ..., users: _Optional[_Iterable[str]] = ..., member_count: _Optional[int] = ..., action: _Optional[str] = ..., info: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., roles: _Optional[_Mapping[str, str]] = ..., previous_owner: _Optional[str] = ..., new_owner: _Optional[str] = ..., announcement: _Optional[str] = ..., mute_all: bool = ..., disabled: bool = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., file_ids: _Optional[_Iterable[str]] = ..., join_ext: _Optional[str] = ..., payload: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ImageBody(_message.Message):
    __slots__ = ["file_length", "filename", "secret", "size", "thumb_filename", "url"]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    THUMB_FILENAME_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    file_length: int
    filename: str
    secret: str
    size: Size
    thumb_filename: str
    url: str
    def __init__(self, filename: _Optional[str] = ..., secret: _Optional[str] = ..., file_length: _Optional[int] = ..., size: _Optional[_Union[Size, _Mapping]] = ..., url: _Optional[str] = ..., thumb_filename: _Optional[str] = ...) -> None: ...

class Jid(_message.Message):
    __slots__ = ["appkey", "device_id", "device_os", "raw", "username"]
    APPKEY_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_OS_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    appkey: str
    device_id: str
    device_os: str
    raw: str
    username: str
    def __init__(self, raw: _Optional[str] = ..., appkey: _Optional[str] = ..., username: _Optional[str] = ..., device_os: _Optional[str] = ..., device_id: _Optional[str] = ...) -> None: ...

class KeywordAlertEvent(_message.Message):
    __slots__ = ["action", "alert_reason", "content_msg_id", "content_owner", "content_receiver", "content_type", "content_uri", "sensitive_words"]
    ACTION_FIELD_NUMBER: _ClassVar[int]
    ALERT_REASON_FIELD_NUMBER: _ClassVar[int]
    CONTENT_MSG_ID_FIELD_NUMBER: _ClassVar[int]
    CONTENT_OWNER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_RECEIVER_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_URI_FIELD_NUMBER: _ClassVar[int]
    SENSITIVE_WORDS_FIELD_NUMBER: _ClassVar[int]
    action: str
    alert_reason: str
    content_msg_id: str
    content_owner: Jid
    content_receiver: Jid
    content_type: str
    content_uri: str
    sensitive_words: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alert_reason: _Optional[str] = ..., action: _Optional[str] = ..., sensitive_words: _Optional[_Iterable[str]] = ..., content_owner: _Optional[_Union[Jid, _Mapping]] = ..., content_receiver: _Optional[_Union[Jid, _Mapping]] = ..., content_uri: _Optional[str] = ..., content_msg_id: _Optional[str] = ..., content_type: _Optional[str] = ...) -> None: ...

class LocationBody(_message.Message):
    __slots__ = ["addr", "lat", "lng"]
    ADDR_FIELD_NUMBER: _ClassVar[int]
    LAT_FIELD_NUMBER: _ClassVar[int]
    LNG_FIELD_NUMBER: _ClassVar[int]
    addr: str
    lat: float
    lng: float
    def __init__(self, lat: _Optional[float] = ..., lng: _Optional[float] = ..., addr: _Optional[str] = ...) -> None: ...

class MessageBody(_message.Message):
    __slots__ = ["audio", "cmd", "custom", "file", "img", "loc", "txt", "unknown", "video"]
    AUDIO_FIELD_NUMBER: _ClassVar[int]
    CMD_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    FILE_FIELD_NUMBER: _ClassVar[int]
    IMG_FIELD_NUMBER: _ClassVar[int]
    LOC_FIELD_NUMBER: _ClassVar[int]
    TXT_FIELD_NUMBER: _ClassVar[int]
    UNKNOWN_FIELD_NUMBER: _ClassVar[int]
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    audio: AudioBody
    cmd: CommandBody
    custom: CustomBody
    file: FileBody
    img: ImageBody
    loc: LocationBody
    txt: TextBody
    unknown: UnknownBody
    video: VideoBody
    def __init__(self, txt: _Optional[_Union[TextBody, _Mapping]] = ..., img: _Optional[_Union[ImageBody, _Mapping]] = ..., audio: _Optional[_Union[AudioBody, _Mapping]] = ..., loc: _Optional[_Union[LocationBody, _Mapping]] = ..., video: _Optional[_Union[VideoBody, _Mapping]] = ..., file: _Optional[_Union[FileBody, _Mapping]] = ..., cmd: _Optional[_Union[CommandBody, _Mapping]] = ..., custom: _Optional[_Union[CustomBody, _Mapping]] = ..., unknown: _Optional[_Union[UnknownBody, _Mapping]] = ...) -> None: ...

class MessageEvent(_message.Message):
    __slots__ = ["bodies", "conversation", "ext"]
    BODIES_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    EXT_FIELD_NUMBER: _ClassVar[int]
    bodies: _containers.RepeatedCompositeFieldContainer[MessageBody]
    conversation: Conversation
    ext: _struct_pb2.Struct
    def __init__(self, conversation: _Optional[_Union[Conversation, str]] = ..., bodies: _Optional[_Iterable[_Union[MessageBody, _Mapping]]] = ..., ext: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class MessageReactions(_message.Message):
    __slots__ = ["channel_type", "message_id", "reactions", "recipient", "sender", "time"]
    CHANNEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REACTIONS_FIELD_NUMBER: _ClassVar[int]
    RECIPIENT_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    channel_type: str
    message_id: str
    reactions: _containers.RepeatedCompositeFieldContainer[Reaction]
    recipient: str
    sender: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, message_id: _Optional[str] = ..., sender: _Optional[str] = ..., recipient: _Optional[str] = ..., channel_type: _Optional[str] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., reactions: _Optional[_Iterable[_Union[Reaction, _Mapping]]] = ...) -> None: ...

class ModerationEvent(_message.Message):
    __slots__ = ["message_id", "message_type", "msg", "provider_result", "result", "risk_type", "source", "target_type", "url"]
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    MSG_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_RESULT_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    RISK_TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_TYPE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    message_type: str
    msg: str
    provider_result: str
    result: str
    risk_type: str
    source: _struct_pb2.Value
    target_type: str
    url: str
    def __init__(self, result: _Optional[str] = ..., provider_result: _Optional[str] = ..., message_type: _Optional[str] = ..., message_id: _Optional[str] = ..., target_type: _Optional[str] = ..., risk_type: _Optional[str] = ..., msg: _Optional[str] = ..., url: _Optional[str] = ..., source: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class MucEvent(_message.Message):
    __slots__ = ["event_info", "file_id", "is_chatroom", "muc_id", "operation", "operation_name", "reason_other", "reason_text", "shared_file", "status"]
    EVENT_INFO_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    IS_CHATROOM_FIELD_NUMBER: _ClassVar[int]
    MUC_ID_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_OTHER_FIELD_NUMBER: _ClassVar[int]
    REASON_TEXT_FIELD_NUMBER: _ClassVar[int]
    SHARED_FILE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    event_info: MucEventInfo
    file_id: str
    is_chatroom: bool
    muc_id: MucId
    operation: MucOperation
    operation_name: str
    reason_other: _struct_pb2.Value
    reason_text: str
    shared_file: SharedFile
    status: OperationStatus
    def __init__(self, operation: _Optional[_Union[MucOperation, str]] = ..., operation_name: _Optional[str] = ..., is_chatroom: bool = ..., muc_id: _Optional[_Union[MucId, _Mapping]] = ..., reason_text: _Optional[str] = ..., shared_file: _Optional[_Union[SharedFile, _Mapping]] = ..., file_id: _Optional[str] = ..., reason_other: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., status: _Optional[_Union[OperationStatus, _Mapping]] = ..., event_info: _Optional[_Union[MucEventInfo, _Mapping]] = ...) -> None: ...

class MucEventInfo(_message.Message):
    __slots__ = ["ext", "raw_ext", "type"]
    EXT_FIELD_NUMBER: _ClassVar[int]
    RAW_EXT_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ext: _struct_pb2.Struct
    raw_ext: str
    type: str
    def __init__(self, type: _Optional[str] = ..., ext: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., raw_ext: _Optional[str] = ...) -> None: ...

class MucId(_message.Message):
    __slots__ = ["appkey", "group_id", "raw"]
    APPKEY_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    RAW_FIELD_NUMBER: _ClassVar[int]
    appkey: str
    group_id: str
    raw: str
    def __init__(self, raw: _Optional[str] = ..., appkey: _Optional[str] = ..., group_id: _Optional[str] = ...) -> None: ...

class OperationStatus(_message.Message):
    __slots__ = ["description", "error_code"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ERROR_CODE_FIELD_NUMBER: _ClassVar[int]
    description: str
    error_code: str
    def __init__(self, description: _Optional[str] = ..., error_code: _Optional[str] = ...) -> None: ...

class PushEvent(_message.Message):
    __slots__ = ["channel", "conversation", "data", "detail", "device_id", "device_token", "error_message", "notifier_name", "status", "target"]
    CHANNEL_FIELD_NUMBER: _ClassVar[int]
    CONVERSATION_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    DEVICE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    NOTIFIER_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    channel: str
    conversation: Conversation
    data: _struct_pb2.Value
    detail: str
    device_id: str
    device_token: str
    error_message: str
    notifier_name: str
    status: str
    target: str
    def __init__(self, status: _Optional[str] = ..., detail: _Optional[str] = ..., channel: _Optional[str] = ..., notifier_name: _Optional[str] = ..., device_id: _Optional[str] = ..., device_token: _Optional[str] = ..., target: _Optional[str] = ..., conversation: _Optional[_Union[Conversation, str]] = ..., data: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., error_message: _Optional[str] = ...) -> None: ...

class Reaction(_message.Message):
    __slots__ = ["count", "operations", "reaction", "user_list"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    REACTION_FIELD_NUMBER: _ClassVar[int]
    USER_LIST_FIELD_NUMBER: _ClassVar[int]
    count: int
    operations: _containers.RepeatedCompositeFieldContainer[ReactionOperation]
    reaction: str
    user_list: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reaction: _Optional[str] = ..., user_list: _Optional[_Iterable[str]] = ..., count: _Optional[int] = ..., operations: _Optional[_Iterable[_Union[ReactionOperation, _Mapping]]] = ...) -> None: ...

class ReactionEvent(_message.Message):
    __slots__ = ["channel_type", "data", "num"]
    CHANNEL_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    NUM_FIELD_NUMBER: _ClassVar[int]
    channel_type: str
    data: _containers.RepeatedCompositeFieldContainer[MessageReactions]
    num: int
    def __init__(self, channel_type: _Optional[str] = ..., num: _Optional[int] = ..., data: _Optional[_Iterable[_Union[MessageReactions, _Mapping]]] = ...) -> None: ...

class ReactionOperation(_message.Message):
    __slots__ = ["operator", "reaction_type"]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    REACTION_TYPE_FIELD_NUMBER: _ClassVar[int]
    operator: str
    reaction_type: str
    def __init__(self, reaction_type: _Optional[str] = ..., operator: _Optional[str] = ...) -> None: ...

class RecallEvent(_message.Message):
    __slots__ = ["ack_message_id", "ext", "recall_id"]
    ACK_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    EXT_FIELD_NUMBER: _ClassVar[int]
    RECALL_ID_FIELD_NUMBER: _ClassVar[int]
    ack_message_id: str
    ext: _struct_pb2.Struct
    recall_id: str
    def __init__(self, recall_id: _Optional[str] = ..., ack_message_id: _Optional[str] = ..., ext: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RosterEvent(_message.Message):
    __slots__ = ["operation", "operation_name", "reason", "roster_version", "status"]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    OPERATION_NAME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ROSTER_VERSION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    operation: RosterOperation
    operation_name: str
    reason: _struct_pb2.Value
    roster_version: str
    status: OperationStatus
    def __init__(self, operation: _Optional[_Union[RosterOperation, str]] = ..., operation_name: _Optional[str] = ..., roster_version: _Optional[str] = ..., reason: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., status: _Optional[_Union[OperationStatus, _Mapping]] = ...) -> None: ...

class SharedFile(_message.Message):
    __slots__ = ["create_time", "file_id", "file_name", "file_owner", "file_size"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FILE_ID_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    FILE_OWNER_FIELD_NUMBER: _ClassVar[int]
    FILE_SIZE_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    file_id: str
    file_name: str
    file_owner: str
    file_size: int
    def __init__(self, file_id: _Optional[str] = ..., file_name: _Optional[str] = ..., file_owner: _Optional[str] = ..., file_size: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Size(_message.Message):
    __slots__ = ["height", "width"]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    height: int
    width: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class TextBody(_message.Message):
    __slots__ = ["combine_level", "file_length", "filename", "msg", "secret", "sub_type", "summary", "title", "url"]
    COMBINE_LEVEL_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    MSG_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SUB_TYPE_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    combine_level: int
    file_length: int
    filename: str
    msg: str
    secret: str
    sub_type: str
    summary: str
    title: str
    url: str
    def __init__(self, msg: _Optional[str] = ..., sub_type: _Optional[str] = ..., title: _Optional[str] = ..., summary: _Optional[str] = ..., combine_level: _Optional[int] = ..., url: _Optional[str] = ..., filename: _Optional[str] = ..., secret: _Optional[str] = ..., file_length: _Optional[int] = ...) -> None: ...

class ThreadEvent(_message.Message):
    __slots__ = ["id", "last_message", "message_count", "msg_parent_id", "muc_parent_id", "name", "operation", "operator", "time"]
    ID_FIELD_NUMBER: _ClassVar[int]
    LAST_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MSG_PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    MUC_PARENT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OPERATION_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    id: str
    last_message: _struct_pb2.Struct
    message_count: int
    msg_parent_id: str
    muc_parent_id: str
    name: str
    operation: str
    operator: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., operator: _Optional[str] = ..., operation: _Optional[str] = ..., msg_parent_id: _Optional[str] = ..., muc_parent_id: _Optional[str] = ..., message_count: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., last_message: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UnknownBody(_message.Message):
    __slots__ = ["fields", "type"]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    fields: _struct_pb2.Struct
    type: str
    def __init__(self, type: _Optional[str] = ..., fields: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UnknownEvent(_message.Message):
    __slots__ = ["body", "reason"]
    BODY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    body: _struct_pb2.Struct
    reason: str
    def __init__(self, reason: _Optional[str] = ..., body: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class UserStatusEvent(_message.Message):
    __slots__ = ["ip", "name", "online", "os", "reason", "reason_name", "status_name", "user", "version"]
    IP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    OS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REASON_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_NAME_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ip: str
    name: str
    online: bool
    os: str
    reason: UserStatusReason
    reason_name: str
    status_name: str
    user: Jid
    version: str
    def __init__(self, reason: _Optional[_Union[UserStatusReason, str]] = ..., reason_name: _Optional[str] = ..., online: bool = ..., status_name: _Optional[str] = ..., user: _Optional[_Union[Jid, _Mapping]] = ..., os: _Optional[str] = ..., ip: _Optional[str] = ..., version: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class VideoBody(_message.Message):
    __slots__ = ["file_length", "filename", "length", "secret", "size", "thumb", "thumb_secret", "url"]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    FILE_LENGTH_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    THUMB_FIELD_NUMBER: _ClassVar[int]
    THUMB_SECRET_FIELD_NUMBER: _ClassVar[int]
    URL_FIELD_NUMBER: _ClassVar[int]
    file_length: int
    filename: str
    length: int
    secret: str
    size: Size
    thumb: str
    thumb_secret: str
    url: str
    def __init__(self, filename: _Optional[str] = ..., secret: _Optional[str] = ..., file_length: _Optional[int] = ..., length: _Optional[int] = ..., url: _Optional[str] = ..., thumb: _Optional[str] = ..., thumb_secret: _Optional[str] = ..., size: _Optional[_Union[Size, _Mapping]] = ...) -> None: ...

class EventType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Verification(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class Conversation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class MucOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RoomKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class RosterOperation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class UserStatusReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []
