package gateway

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/server"
)

func errorInfo(t *testing.T, st *status.Status) *errdetails.ErrorInfo {
	t.Helper()
	var infos []*errdetails.ErrorInfo
	for _, d := range st.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			infos = append(infos, info)
		}
	}
	if len(infos) != 1 {
		t.Fatalf("status %v has %d ErrorInfo, want 1", st.Proto(), len(infos))
	}
	return infos[0]
}

func TestStreamErrorGetsCodeReason(t *testing.T) {
	for _, c := range []struct {
		err    error
		code   codes.Code
		reason string
	}{
		{status.Error(codes.Unimplemented, "method SubscribeEvents not implemented"), codes.Unimplemented, "UNIMPLEMENTED"},
		{status.Error(codes.DeadlineExceeded, "deadline"), codes.DeadlineExceeded, "DEADLINE_EXCEEDED"},
		{status.Error(codes.Unavailable, "gone"), codes.Unavailable, "UNAVAILABLE"},
		{errors.New("not a status"), codes.Unknown, "UNKNOWN"},
	} {
		st := handleStreamError(context.Background(), c.err)
		info := errorInfo(t, st)
		if st.Code() != c.code || info.GetReason() != c.reason || info.GetDomain() != server.ErrorDomain {
			t.Errorf("handleStreamError(%v) = %v %+v, want %v with reason %s", c.err, st.Code(), info, c.code, c.reason)
		}
	}
}

func TestServerErrorInfoPassesThrough(t *testing.T) {
	in := newStatus(codes.NotFound, "no stored event", "EVENT_NOT_FOUND", map[string]string{"cursor": "9"})
	r := httptest.NewRequest("GET", "/v1/events/9", nil)
	for _, got := range []*status.Status{handleStreamError(context.Background(), in.Err()), withErrorInfo(context.Background(), r, in)} {
		if !proto.Equal(got.Proto(), in.Proto()) {
			t.Errorf("status with an ErrorInfo became %v, want it unchanged: %v", got.Proto(), in.Proto())
		}
	}
}

func TestBodyErrorIsAttributedToBody(t *testing.T) {
	r := httptest.NewRequest("POST", "/v1/orgs/o/apps/a/chatrooms", nil)
	for _, msg := range []string{"proto: (line 1:2): unknown field \"x\"", "proto:\u00a0(line 1:2): unknown field \"x\""} {
		st := withErrorInfo(context.Background(), r, status.New(codes.InvalidArgument, msg))
		info := errorInfo(t, st)
		if st.Message() != `body: (line 1:2): unknown field "x"` || info.GetReason() != ReasonInvalidArgument || info.GetMetadata()["field"] != "body" {
			t.Errorf("body error %q became %q %+v", msg, st.Message(), info)
		}
	}
}

func TestEnumPrefix(t *testing.T) {
	for _, c := range []struct {
		got, want string
	}{
		{enumPrefix(imbridgev1.EventType(0).Descriptor()), "EVENT_TYPE_"},
		{enumPrefix(imbridgev1.ListOrder(0).Descriptor()), "LIST_ORDER_"},
		{enumPrefix(imbridgev1.StartPosition(0).Descriptor()), "START_POSITION_"},
		{upperSnake("HTTPMethod"), "HTTP_METHOD"},
		{upperSnake("V2Thing"), "V2_THING"},
		{upperSnake("Event"), "EVENT"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestWithEmptyLists(t *testing.T) {
	for _, c := range []struct {
		in    string
		names []string
		want  string
	}{
		{`{}`, []string{"events"}, `{"events":[]}`},
		{`{"nextPageToken":"x"}`, []string{"events"}, `{"nextPageToken":"x","events":[]}`},
		{`{ }`, []string{"a", "b"}, `{ "a":[],"b":[]}`},
		{`{"a":1}`, nil, `{"a":1}`},
	} {
		if got := string(withEmptyLists([]byte(c.in), c.names)); got != c.want {
			t.Errorf("withEmptyLists(%s, %v) = %s, want %s", c.in, c.names, got, c.want)
		}
	}
}
