package selector_test

import (
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/imbridge/imbridge/internal/selector"
)

const prefix = "imbridge.events"

func TestParse(t *testing.T) {
	for _, ok := range []string{"*", "chat", "chat:txt", "chatroom:unknown", "muc", "muc:assing_owner", "roster:decline", "userStatus:login", "recall", "unknown"} {
		if _, err := selector.Parse(ok); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "chat:", "chat:text", "recall:x", "muc:assign_owner", "userstatus:login", "Chat", "**"} {
		if _, err := selector.Parse(bad); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	if _, err := selector.ParseAll([]string{"chat", "nope"}); err == nil || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("ParseAll error %v does not name the bad selector", err)
	}
}

// A selector's subject filter chooses exactly the events the selector
// matches: checked for every pair of selector form and canonical selector,
// with NATS's own subject matching.
func TestFilterSubjectsAgreeWithMatches(t *testing.T) {
	forms := []string{"*"}
	for _, c := range selector.List() {
		forms = append(forms, c)
		family, _, _ := strings.Cut(c, ":")
		forms = append(forms, family)
	}
	for _, form := range forms {
		sel, err := selector.Parse(form)
		if err != nil {
			t.Fatal(err)
		}
		for _, appkey := range []string{"acme#chat", "other#app"} {
			filter := sel.FilterSubject(prefix, "acme#chat")
			for _, c := range selector.List() {
				subject := selector.Subject(prefix, appkey, c)
				want := sel.Matches(c) && appkey == "acme#chat"
				if got := server.SubjectMatchesFilter(subject, filter); got != want {
					t.Errorf("selector %s, event %s of %s: subject %s vs filter %s = %v, want %v", form, c, appkey, subject, filter, got, want)
				}
			}
		}
	}
}

func TestAppTokenIsOneSafeToken(t *testing.T) {
	for _, appkey := range []string{"org#app", "", "a.b#c*d>e f", "org#app_with_underscore"} {
		tok := selector.AppToken(appkey)
		if tok == "" || strings.ContainsAny(tok, ".*> \t") {
			t.Errorf("AppToken(%q) = %q", appkey, tok)
		}
	}
	if selector.AppToken("a.b#c") == selector.AppToken("a_b#c") {
		t.Error("different appkeys share a token")
	}
}

func TestFilterSubjectsDeduplicates(t *testing.T) {
	sels, _ := selector.ParseAll([]string{"chat", "chat", "muc:kick"})
	if got := selector.FilterSubjects(prefix, "", sels); len(got) != 2 {
		t.Errorf("FilterSubjects = %v", got)
	}
	sels, _ = selector.ParseAll([]string{"chat", "*"})
	if got := selector.FilterSubjects(prefix, "", sels); len(got) != 1 || got[0] != prefix+".*.*.*" {
		t.Errorf("FilterSubjects with * = %v", got)
	}
}
