package eventlog

import (
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/imbridge/imbridge/internal/selector"
)

// The NATS names of the log: the stream, its subjects, the KV buckets and
// the JetStream API subjects the log calls directly. This file is the one
// home of the subject layout.
const (
	// SubjectPrefix begins the subject of every stored event:
	// `imbridge.events.<app token>.<family>.<op or _>`.
	SubjectPrefix = "imbridge.events"
	// StreamName is the JetStream stream that holds the events.
	StreamName = "IMBRIDGE_EVENTS"
	// ChatroomBucket is the KV bucket of group ids known to be chatrooms.
	ChatroomBucket = "IMBRIDGE_CHATROOMS"
	// DictBucket is the KV bucket of learned compression dictionaries
	// (dicts.go), by number. Events written with one cannot be read
	// without it: the log deletes those no event needs any more, and
	// nothing else may.
	DictBucket = "IMBRIDGE_DICTS"

	// noOp is the subject token of selectors that have no operation.
	noOp = "_"
	// allEvents is the filter of every stored event.
	allEvents = SubjectPrefix + ".>"

	// legacyCallIDBucket is the KV bucket earlier versions kept call ids
	// in; Open deletes it.
	legacyCallIDBucket = "IMBRIDGE_CALL_IDS"

	// dictStream is the stream that holds DictBucket, and dictSubjects
	// begins its keys' subjects.
	dictStream   = "KV_" + DictBucket
	dictSubjects = "$KV." + DictBucket + "."

	directGetSubject = jetstream.DefaultAPIPrefix + "DIRECT.GET." + StreamName
	msgGetPrefix     = jetstream.DefaultAPIPrefix + "STREAM.MSG.GET."
)

// eventSubject is the subject of an event of application appkey with the
// canonical selector c: `<prefix>.<app token>.<family>.<op or _>`.
func eventSubject(appkey, c string) string {
	family, op, _ := strings.Cut(c, ":")
	if op == "" {
		op = noOp
	}
	return SubjectPrefix + "." + AppToken(appkey) + "." + family + "." + op
}

// appFilter chooses every event of one application, or of all ("").
func appFilter(appkey string) string {
	if appkey == "" {
		return allEvents
	}
	return SubjectPrefix + "." + AppToken(appkey) + ".>"
}

// filterSubject is the subject filter that chooses what s chooses, for one
// application or (appkey "") for all.
func filterSubject(s selector.Selector, appkey string) string {
	app := "*"
	if appkey != "" {
		app = AppToken(appkey)
	}
	family, op := s.Family(), s.Op()
	switch {
	case family == "":
		return SubjectPrefix + "." + app + ".*.*"
	case op == "" && selector.HasOps(family):
		return SubjectPrefix + "." + app + "." + family + ".*"
	case op == "":
		return SubjectPrefix + "." + app + "." + family + "." + noOp
	}
	return SubjectPrefix + "." + app + "." + family + "." + op
}

// filterSubjects is the set of subject filters for a list of selectors; an
// empty list chooses everything. A filter another one covers (`chat:txt`
// beside `chat`) is left out, and so are duplicates: a consumer's filters
// may not overlap.
func filterSubjects(appkey string, list []selector.Selector) []string {
	if len(list) == 0 {
		list = []selector.Selector{{}}
	}
	var all []string
	for _, s := range list {
		if f := filterSubject(s, appkey); !slices.Contains(all, f) {
			all = append(all, f)
		}
	}
	out := all[:0:0]
	for _, f := range all {
		if !slices.ContainsFunc(all, func(g string) bool { return g != f && server.SubjectMatchesFilter(f, g) }) {
			out = append(out, f)
		}
	}
	return out
}

// AppToken is appkey as one subject token: letters, digits, `-`, `_` and
// `#` stay; every other byte (NATS reserves `.`, `*`, `>` and white space)
// is written as `%XX`. An empty appkey is `%`.
func AppToken(appkey string) string {
	if appkey == "" {
		return "%"
	}
	var b strings.Builder
	for i := 0; i < len(appkey); i++ {
		c := appkey[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '#' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	return b.String()
}
