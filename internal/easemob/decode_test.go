package easemob

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestFlexTypes(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{`3`: 3, `"3"`: 3, `null`: 0, `""`: 0, `-1`: -1, `"-1"`: -1, `1.7e12`: 1.7e12} {
		var f flexInt
		if err := json.Unmarshal([]byte(in), &f); err != nil || int64(f) != want {
			t.Errorf("flexInt %s = %d, %v; want %d", in, f, err, want)
		}
	}
	for _, in := range []string{`"x"`, `1.5`, `{}`} {
		var f flexInt
		if err := json.Unmarshal([]byte(in), &f); err == nil {
			t.Errorf("flexInt %s: no error", in)
		}
	}
	for in, want := range map[string]bool{`true`: true, `false`: false, `"false"`: false, `"true"`: true, `"success"`: true, `null`: false} {
		var f flexBool
		if err := json.Unmarshal([]byte(in), &f); err != nil || bool(f) != want {
			t.Errorf("flexBool %s = %v, %v; want %v", in, f, err, want)
		}
	}
	var b flexBool
	if err := json.Unmarshal([]byte(`"maybe"`), &b); err == nil {
		t.Error(`flexBool "maybe": no error`)
	}
	for in, want := range map[string]string{`"a"`: "a", `12`: "12", `null`: ""} {
		var f flexString
		if err := json.Unmarshal([]byte(in), &f); err != nil || string(f) != want {
			t.Errorf("flexString %s = %q, %v; want %q", in, f, err, want)
		}
	}
}

// answer makes a vendor that always answers status and body.
func answer(t *testing.T, status int, body string) *testEnv {
	v := newVendor(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) { writeJSON(w, status, body) })
	return newEnv(t, v, Options{})
}

func TestVendorErrorBodies(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status        int
		body          string
		typ, desc, in string
	}{
		{404, `{"error":"service_resource_not_found","exception":"x.y.Z","timestamp":1,"duration":0,"error_description":"do not find this group:r1"}`,
			"service_resource_not_found", "do not find this group:r1", "status 404 service_resource_not_found: do not find this group:r1"},
		{400, `{"error_description":"exceed allowed batch size 10"}`, "", "exceed allowed batch size 10", "status 400: exceed allowed batch size 10"},
		{403, `<html>forbidden</html>`, "", "Forbidden", "status 403: Forbidden"},
		{400, `{"error":"forbidden_op","error_description":"users [u1] are not members of this group!"}`, "forbidden_op", "users [u1] are not members of this group!", "forbidden_op"},
	} {
		e := answer(t, tc.status, tc.body)
		err := e.app.RemoveMember(ctxT(t), "r1", "u1")
		var ve *Error
		if !errors.As(err, &ve) || ve.Status != tc.status || ve.Type != tc.typ || ve.Description != tc.desc || ve.Op != "RemoveMember" || ve.App != testAppkey {
			t.Errorf("%d %s: err = %#v", tc.status, tc.body, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.in) || !strings.Contains(err.Error(), "RemoveMember") {
			t.Errorf("err text %q, want it to hold %q", err, tc.in)
		}
		if errors.Is(err, ErrUnavailable) || errors.Is(err, ErrRateLimited) {
			t.Errorf("a 4xx is neither unavailable nor rate limited: %v", err)
		}
	}
}

func TestVendorEchoingTheTokenIsRedacted(t *testing.T) {
	t.Parallel()
	v := newVendor(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		writeJSON(w, 403, `{"error":"forbidden_op","error_description":"token `+tok+` may not"}`)
	})
	e := newEnv(t, v, Options{})
	err := e.app.DeleteChatroom(ctxT(t), "r1")
	assertClean(t, err)
	if err == nil || !strings.Contains(err.Error(), "[redacted]") {
		t.Errorf("err = %v", err)
	}
}

func TestResultFalse(t *testing.T) {
	t.Parallel()
	e := answer(t, 200, `{"data":{"result":false,"reason":"nope","user":"u1"}}`)
	err := e.app.AddBlocklistMember(ctxT(t), "r1", "u1")
	var ve *Error
	if !errors.As(err, &ve) || ve.Type != TypeResultFalse || ve.Status != 200 || ve.Description != "nope" {
		t.Fatalf("err = %v", err)
	}
}

func TestUnexpectedResponse(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`not json`, `{"data":"x"}`, `{"data":{"id":""}}`} {
		e := answer(t, 200, body)
		_, err := e.app.CreateChatroom(ctxT(t), CreateChatroom{Name: "n", Owner: "o"})
		if !errors.Is(err, ErrUnexpectedResponse) {
			t.Errorf("%s: err = %v", body, err)
		}
	}
}

func TestEmptyAndMissingData(t *testing.T) {
	t.Parallel()
	e := answer(t, 200, ``)
	if got, err := e.app.ListAdmins(ctxT(t), "r1"); err != nil || len(got) != 0 {
		t.Errorf("empty body: %v, %v", got, err)
	}
	e = answer(t, 200, `{"data":null,"count":"0"}`)
	if got, err := e.app.ListMembers(ctxT(t), "r1", 0, 0); err != nil || got.Count != 0 || len(got.Members) != 0 {
		t.Errorf("null data: %v, %v", got, err)
	}
}

func TestInvalidArgumentsSendNothing(t *testing.T) {
	t.Parallel()
	v := newVendor(t, nil)
	e := newEnv(t, v, Options{})
	a, ctx := e.app, ctxT(t)
	many := make([]string, 101)
	for i := range many {
		many[i] = "u"
	}
	for name, err := range map[string]error{
		"empty id":       a.DeleteChatroom(ctx, ""),
		"empty user":     a.AddMember(ctx, "r1", ""),
		"no ids":         func() error { _, err := a.GetChatrooms(ctx); return err }(),
		"comma in list":  func() error { _, err := a.RemoveMembers(ctx, "r1", []string{"a,b"}); return err }(),
		"batch too big":  func() error { _, err := a.AddMembers(ctx, "r1", many); return err }(),
		"remove too big": func() error { _, err := a.UnmuteMembers(ctx, "r1", many[:61]); return err }(),
		"zero mute":      func() error { _, err := a.MuteMembers(ctx, "r1", []string{"u"}, 0); return err }(),
		"negative mute": func() error {
			_, err := a.MuteMembers(ctx, "r1", []string{"u"}, MuteDuration(-time.Second))
			return err
		}(),
		"zero tag mute":     a.MuteTag(ctx, "r1", "t", 0),
		"nothing to update": func() error { _, err := a.UpdateChatroom(ctx, "r1", UpdateChatroom{}); return err }(),
		"11 attributes": func() error {
			m := map[string]string{}
			for _, k := range strings.Split("a b c d e f g h i j k", " ") {
				m[k] = "v"
			}
			_, err := a.SetAttributes(ctx, "r1", "u", m, true, false)
			return err
		}(),
		"11 tags": a.SetMemberTags(ctx, "r1", "u", many[:11]),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	if n := len(v.requests()) + v.fetches(); n != 0 {
		t.Errorf("%d requests sent for invalid calls", n)
	}
}

func TestMuteDurationWire(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    MuteDuration
		unit time.Duration
		want int64
		ok   bool
	}{
		{Permanent, time.Millisecond, -1, true},
		{Permanent, time.Second, -1, true},
		{MuteDuration(time.Minute), time.Millisecond, 60000, true},
		{MuteDuration(time.Minute), time.Second, 60, true},
		{MuteDuration(time.Millisecond), time.Second, 1, true}, // rounded up, never 0 (= cancel)
		{0, time.Millisecond, 0, false},
		{MuteDuration(-2), time.Millisecond, 0, false},
	} {
		got, ok := tc.d.wire(tc.unit)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%d in %s = %d, %v; want %d, %v", tc.d, tc.unit, got, ok, tc.want, tc.ok)
		}
	}
}
