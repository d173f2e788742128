from google.api import annotations_pb2 as _annotations_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from imbridge.v1 import chatroom_pb2 as _chatroom_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AddChatroomAdminRequest(_message.Message):
    __slots__ = ["parent", "username"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AddChatroomAdminResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class AddChatroomAllowlistMemberRequest(_message.Message):
    __slots__ = ["parent", "username"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AddChatroomAllowlistMemberResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class AddChatroomAllowlistMembersRequest(_message.Message):
    __slots__ = ["parent", "usernames"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class AddChatroomAllowlistMembersResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_chatroom_pb2.BatchResult, _Mapping]]] = ...) -> None: ...

class AddChatroomBlocklistMemberRequest(_message.Message):
    __slots__ = ["parent", "username"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AddChatroomBlocklistMemberResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class AddChatroomBlocklistMembersRequest(_message.Message):
    __slots__ = ["parent", "usernames"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class AddChatroomBlocklistMembersResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_chatroom_pb2.BatchResult, _Mapping]]] = ...) -> None: ...

class AddChatroomMemberRequest(_message.Message):
    __slots__ = ["parent", "username"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AddChatroomMemberResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class AddChatroomMembersRequest(_message.Message):
    __slots__ = ["parent", "usernames"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class AddChatroomMembersResponse(_message.Message):
    __slots__ = ["usernames"]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class AddChatroomSuperAdminRequest(_message.Message):
    __slots__ = ["parent", "username"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ...) -> None: ...

class AddChatroomSuperAdminResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class BatchGetChatroomsRequest(_message.Message):
    __slots__ = ["names", "parent"]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    names: _containers.RepeatedScalarFieldContainer[str]
    parent: str
    def __init__(self, parent: _Optional[str] = ..., names: _Optional[_Iterable[str]] = ...) -> None: ...

class BatchGetChatroomsResponse(_message.Message):
    __slots__ = ["chatrooms"]
    CHATROOMS_FIELD_NUMBER: _ClassVar[int]
    chatrooms: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.Chatroom]
    def __init__(self, chatrooms: _Optional[_Iterable[_Union[_chatroom_pb2.Chatroom, _Mapping]]] = ...) -> None: ...

class CreateChatroomRequest(_message.Message):
    __slots__ = ["chatroom", "chatroom_id", "parent", "request_id"]
    CHATROOM_FIELD_NUMBER: _ClassVar[int]
    CHATROOM_ID_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    chatroom: _chatroom_pb2.Chatroom
    chatroom_id: str
    parent: str
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., chatroom: _Optional[_Union[_chatroom_pb2.Chatroom, _Mapping]] = ..., chatroom_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class CreateChatroomResponse(_message.Message):
    __slots__ = ["chatroom"]
    CHATROOM_FIELD_NUMBER: _ClassVar[int]
    chatroom: _chatroom_pb2.Chatroom
    def __init__(self, chatroom: _Optional[_Union[_chatroom_pb2.Chatroom, _Mapping]] = ...) -> None: ...

class DeleteChatroomAttributesRequest(_message.Message):
    __slots__ = ["keys", "parent", "username"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class DeleteChatroomAttributesResponse(_message.Message):
    __slots__ = ["failed_keys", "successful_keys"]
    class FailedKeysEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FAILED_KEYS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSFUL_KEYS_FIELD_NUMBER: _ClassVar[int]
    failed_keys: _containers.ScalarMap[str, str]
    successful_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, successful_keys: _Optional[_Iterable[str]] = ..., failed_keys: _Optional[_Mapping[str, str]] = ...) -> None: ...

class DeleteChatroomRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class DeleteChatroomResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ForceDeleteChatroomAttributesRequest(_message.Message):
    __slots__ = ["keys", "parent", "username"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class ForceDeleteChatroomAttributesResponse(_message.Message):
    __slots__ = ["failed_keys", "successful_keys"]
    class FailedKeysEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FAILED_KEYS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSFUL_KEYS_FIELD_NUMBER: _ClassVar[int]
    failed_keys: _containers.ScalarMap[str, str]
    successful_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, successful_keys: _Optional[_Iterable[str]] = ..., failed_keys: _Optional[_Mapping[str, str]] = ...) -> None: ...

class ForceSetChatroomAttributesRequest(_message.Message):
    __slots__ = ["attributes", "auto_delete", "parent", "username"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    AUTO_DELETE_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    auto_delete: _chatroom_pb2.ChatroomAttributeAutoDelete
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., auto_delete: _Optional[_Union[_chatroom_pb2.ChatroomAttributeAutoDelete, str]] = ...) -> None: ...

class ForceSetChatroomAttributesResponse(_message.Message):
    __slots__ = ["failed_keys", "successful_keys"]
    class FailedKeysEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FAILED_KEYS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSFUL_KEYS_FIELD_NUMBER: _ClassVar[int]
    failed_keys: _containers.ScalarMap[str, str]
    successful_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, successful_keys: _Optional[_Iterable[str]] = ..., failed_keys: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetChatroomAnnouncementRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetChatroomAnnouncementResponse(_message.Message):
    __slots__ = ["announcement"]
    ANNOUNCEMENT_FIELD_NUMBER: _ClassVar[int]
    announcement: _chatroom_pb2.ChatroomAnnouncement
    def __init__(self, announcement: _Optional[_Union[_chatroom_pb2.ChatroomAnnouncement, _Mapping]] = ...) -> None: ...

class GetChatroomAttributesRequest(_message.Message):
    __slots__ = ["keys", "parent"]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedScalarFieldContainer[str]
    parent: str
    def __init__(self, parent: _Optional[str] = ..., keys: _Optional[_Iterable[str]] = ...) -> None: ...

class GetChatroomAttributesResponse(_message.Message):
    __slots__ = ["attributes"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    def __init__(self, attributes: _Optional[_Mapping[str, str]] = ...) -> None: ...

class GetChatroomMemberTagsRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetChatroomMemberTagsResponse(_message.Message):
    __slots__ = ["tags"]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    tags: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.MemberTag]
    def __init__(self, tags: _Optional[_Iterable[_Union[_chatroom_pb2.MemberTag, _Mapping]]] = ...) -> None: ...

class GetChatroomRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetChatroomResponse(_message.Message):
    __slots__ = ["chatroom"]
    CHATROOM_FIELD_NUMBER: _ClassVar[int]
    chatroom: _chatroom_pb2.Chatroom
    def __init__(self, chatroom: _Optional[_Union[_chatroom_pb2.Chatroom, _Mapping]] = ...) -> None: ...

class ListChatroomAdminsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChatroomAdminsResponse(_message.Message):
    __slots__ = ["next_page_token", "usernames"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, usernames: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListChatroomAllowlistRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChatroomAllowlistResponse(_message.Message):
    __slots__ = ["next_page_token", "usernames"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, usernames: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListChatroomBlocklistRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChatroomBlocklistResponse(_message.Message):
    __slots__ = ["next_page_token", "usernames"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, usernames: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListChatroomMembersRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChatroomMembersResponse(_message.Message):
    __slots__ = ["members", "next_page_token"]
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.ChatroomMember]
    next_page_token: str
    def __init__(self, members: _Optional[_Iterable[_Union[_chatroom_pb2.ChatroomMember, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListChatroomMutesRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChatroomMutesResponse(_message.Message):
    __slots__ = ["mutes", "next_page_token"]
    MUTES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    mutes: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.ChatroomMute]
    next_page_token: str
    def __init__(self, mutes: _Optional[_Iterable[_Union[_chatroom_pb2.ChatroomMute, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListChatroomSuperAdminsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChatroomSuperAdminsResponse(_message.Message):
    __slots__ = ["next_page_token", "usernames"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, usernames: _Optional[_Iterable[str]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListChatroomsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListChatroomsResponse(_message.Message):
    __slots__ = ["chatrooms", "next_page_token"]
    CHATROOMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    chatrooms: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.Chatroom]
    next_page_token: str
    def __init__(self, chatrooms: _Optional[_Iterable[_Union[_chatroom_pb2.Chatroom, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListJoinedChatroomsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "parent", "username"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJoinedChatroomsResponse(_message.Message):
    __slots__ = ["chatrooms", "next_page_token"]
    CHATROOMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    chatrooms: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.JoinedChatroom]
    next_page_token: str
    def __init__(self, chatrooms: _Optional[_Iterable[_Union[_chatroom_pb2.JoinedChatroom, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class MuteAllChatroomMembersRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class MuteAllChatroomMembersResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class MuteChatroomMemberRequest(_message.Message):
    __slots__ = ["duration", "parent", "permanent", "username"]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    duration: _duration_pb2.Duration
    parent: str
    permanent: bool
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ..., duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., permanent: bool = ...) -> None: ...

class MuteChatroomMemberResponse(_message.Message):
    __slots__ = ["mute"]
    MUTE_FIELD_NUMBER: _ClassVar[int]
    mute: _chatroom_pb2.ChatroomMute
    def __init__(self, mute: _Optional[_Union[_chatroom_pb2.ChatroomMute, _Mapping]] = ...) -> None: ...

class MuteChatroomMembersRequest(_message.Message):
    __slots__ = ["duration", "parent", "permanent", "usernames"]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    duration: _duration_pb2.Duration
    parent: str
    permanent: bool
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ..., duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., permanent: bool = ...) -> None: ...

class MuteChatroomMembersResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.ChatroomMuteResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_chatroom_pb2.ChatroomMuteResult, _Mapping]]] = ...) -> None: ...

class MuteChatroomTagRequest(_message.Message):
    __slots__ = ["duration", "name", "permanent", "tag"]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PERMANENT_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    duration: _duration_pb2.Duration
    name: str
    permanent: bool
    tag: str
    def __init__(self, name: _Optional[str] = ..., tag: _Optional[str] = ..., duration: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., permanent: bool = ...) -> None: ...

class MuteChatroomTagResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RemoveChatroomAdminRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveChatroomAdminResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RemoveChatroomAllowlistMemberRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveChatroomAllowlistMemberResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RemoveChatroomAllowlistMembersRequest(_message.Message):
    __slots__ = ["parent", "usernames"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveChatroomAllowlistMembersResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_chatroom_pb2.BatchResult, _Mapping]]] = ...) -> None: ...

class RemoveChatroomBlocklistMemberRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveChatroomBlocklistMemberResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RemoveChatroomBlocklistMembersRequest(_message.Message):
    __slots__ = ["parent", "usernames"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveChatroomBlocklistMembersResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_chatroom_pb2.BatchResult, _Mapping]]] = ...) -> None: ...

class RemoveChatroomMemberRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveChatroomMemberResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RemoveChatroomMembersRequest(_message.Message):
    __slots__ = ["parent", "usernames"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class RemoveChatroomMembersResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_chatroom_pb2.BatchResult, _Mapping]]] = ...) -> None: ...

class RemoveChatroomSuperAdminRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class RemoveChatroomSuperAdminResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class SetChatroomAttributesRequest(_message.Message):
    __slots__ = ["attributes", "auto_delete", "parent", "username"]
    class AttributesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ATTRIBUTES_FIELD_NUMBER: _ClassVar[int]
    AUTO_DELETE_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    attributes: _containers.ScalarMap[str, str]
    auto_delete: _chatroom_pb2.ChatroomAttributeAutoDelete
    parent: str
    username: str
    def __init__(self, parent: _Optional[str] = ..., username: _Optional[str] = ..., attributes: _Optional[_Mapping[str, str]] = ..., auto_delete: _Optional[_Union[_chatroom_pb2.ChatroomAttributeAutoDelete, str]] = ...) -> None: ...

class SetChatroomAttributesResponse(_message.Message):
    __slots__ = ["failed_keys", "successful_keys"]
    class FailedKeysEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FAILED_KEYS_FIELD_NUMBER: _ClassVar[int]
    SUCCESSFUL_KEYS_FIELD_NUMBER: _ClassVar[int]
    failed_keys: _containers.ScalarMap[str, str]
    successful_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, successful_keys: _Optional[_Iterable[str]] = ..., failed_keys: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SetChatroomMemberTagsRequest(_message.Message):
    __slots__ = ["name", "tags"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    name: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ...) -> None: ...

class SetChatroomMemberTagsResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class TransferChatroomOwnershipRequest(_message.Message):
    __slots__ = ["name", "new_owner"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NEW_OWNER_FIELD_NUMBER: _ClassVar[int]
    name: str
    new_owner: str
    def __init__(self, name: _Optional[str] = ..., new_owner: _Optional[str] = ...) -> None: ...

class TransferChatroomOwnershipResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class UnmuteAllChatroomMembersRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UnmuteAllChatroomMembersResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class UnmuteChatroomMemberRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UnmuteChatroomMemberResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class UnmuteChatroomMembersRequest(_message.Message):
    __slots__ = ["parent", "usernames"]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    USERNAMES_FIELD_NUMBER: _ClassVar[int]
    parent: str
    usernames: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, parent: _Optional[str] = ..., usernames: _Optional[_Iterable[str]] = ...) -> None: ...

class UnmuteChatroomMembersResponse(_message.Message):
    __slots__ = ["results"]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[_chatroom_pb2.BatchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[_chatroom_pb2.BatchResult, _Mapping]]] = ...) -> None: ...

class UpdateChatroomAnnouncementRequest(_message.Message):
    __slots__ = ["announcement", "update_mask"]
    ANNOUNCEMENT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    announcement: _chatroom_pb2.ChatroomAnnouncement
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, announcement: _Optional[_Union[_chatroom_pb2.ChatroomAnnouncement, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateChatroomAnnouncementResponse(_message.Message):
    __slots__ = ["announcement"]
    ANNOUNCEMENT_FIELD_NUMBER: _ClassVar[int]
    announcement: _chatroom_pb2.ChatroomAnnouncement
    def __init__(self, announcement: _Optional[_Union[_chatroom_pb2.ChatroomAnnouncement, _Mapping]] = ...) -> None: ...

class UpdateChatroomRequest(_message.Message):
    __slots__ = ["chatroom", "update_mask"]
    CHATROOM_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    chatroom: _chatroom_pb2.Chatroom
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, chatroom: _Optional[_Union[_chatroom_pb2.Chatroom, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateChatroomResponse(_message.Message):
    __slots__ = ["chatroom"]
    CHATROOM_FIELD_NUMBER: _ClassVar[int]
    chatroom: _chatroom_pb2.Chatroom
    def __init__(self, chatroom: _Optional[_Union[_chatroom_pb2.Chatroom, _Mapping]] = ...) -> None: ...
