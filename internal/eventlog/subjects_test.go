package eventlog

import (
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/imbridge/imbridge/internal/selector"
)

// A selector's subject filters choose exactly the events the selector
// matches: checked for every selector form against every canonical
// selector of two applications, with NATS's own subject matching. No two
// filters overlap, which a consumer's may not.
func TestFilterSubjectsAgreeWithSelectors(t *testing.T) {
	forms := [][]string{{}, {"*"}, {"muc:kick", "roster"}, {"userStatus:login", "chatroom"}, {"chat", "chat"},
		{"chat", "chat:txt"}, {"muc:kick", "muc", "roster:add"}, {"chat:txt", "*"}}
	for _, c := range selector.List() {
		family, _, _ := strings.Cut(c, ":")
		forms = append(forms, []string{c}, []string{family})
	}
	apps := []string{"org#app1", "org.x#app 3"}
	for _, form := range forms {
		sels, err := selector.ParseAll(form)
		if err != nil {
			t.Fatal(err)
		}
		for _, qApp := range append([]string{""}, apps...) {
			filters := filterSubjects(qApp, sels)
			for i, f := range filters {
				for _, g := range filters[i+1:] {
					if server.SubjectsCollide(f, g) {
						t.Fatalf("selectors %v app %q: filters %s and %s overlap", form, qApp, f, g)
					}
				}
			}
			for _, evApp := range apps {
				for _, c := range selector.List() {
					subj := eventSubject(evApp, c)
					want := selector.MatchesAny(sels, c) && (qApp == "" || qApp == evApp)
					got := slices.ContainsFunc(filters, func(f string) bool { return server.SubjectMatchesFilter(subj, f) })
					if got != want {
						t.Fatalf("selectors %v app %q: %s matched %v by %v, want %v", form, qApp, subj, got, filters, want)
					}
					if qApp != "" && server.SubjectMatchesFilter(subj, appFilter(qApp)) != (qApp == evApp) {
						t.Fatalf("appFilter(%q) vs %s", qApp, subj)
					}
				}
			}
		}
	}
}

func TestFilterSubjectsDeduplicates(t *testing.T) {
	sels, _ := selector.ParseAll([]string{"chat", "chat", "muc:kick"})
	if got := filterSubjects("", sels); len(got) != 2 {
		t.Errorf("filterSubjects = %v", got)
	}
	sels, _ = selector.ParseAll([]string{"chat", "*"})
	if got := filterSubjects("", sels); len(got) != 1 || got[0] != SubjectPrefix+".*.*.*" {
		t.Errorf("filterSubjects with * = %v", got)
	}
}

func TestAppTokenIsOneSafeToken(t *testing.T) {
	for _, appkey := range []string{"org#app", "", "a.b#c*d>e f", "org#app_with_underscore"} {
		tok := AppToken(appkey)
		if tok == "" || strings.ContainsAny(tok, ".*> \t") {
			t.Errorf("AppToken(%q) = %q", appkey, tok)
		}
	}
	if AppToken("a.b#c") == AppToken("a_b#c") {
		t.Error("different appkeys share a token")
	}
}
