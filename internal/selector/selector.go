// Package selector is the vocabulary imbridge uses to name and choose
// events: the rule selectors of the Easemob console (`chat:txt`, `muc:kick`,
// `roster:add`, `userStatus:login`…), and how they map onto the event log's
// subjects so that choosing events by selector is a subject filter.
package selector

import (
	"fmt"
	"slices"
	"strings"
)

// Families and their operations, in the console's own spelling
// (`assing_owner` included). Families without operations are one selector.
var families = []struct {
	name string
	ops  []string
}{
	{"chat", bodyTypes},
	{"groupchat", bodyTypes},
	{"chatroom", bodyTypes},
	{"recall", nil},
	{"muc", []string{
		"create", "destroy", "apply", "apply_accept", "invite", "invite_accept", "invite_decline",
		"kick", "ban", "allow", "update", "block", "unblock", "presence", "absence", "direct_joined",
		"leave", "assing_owner", "add_admin", "remove_admin", "add_mute", "remove_mute",
		"update_announcement", "delete_announcement", "upload_file", "delete_file",
		"add_user_white_list", "remove_user_white_list", "ban_group", "remove_ban_group",
		"set_metadata", "delete_metadata", "group_member_metadata_update", Unknown,
	}},
	{"roster", []string{"add", "remove", "accept", "decline", "ban", "allow", Unknown}},
	{"userStatus", []string{"login", "logout", "replaced", Unknown}},
	{"read_ack", nil},
	{"channel_ack", nil},
	{"keyword_alert", nil},
	{"reaction", nil},
	{"thread", nil},
	{Unknown, nil},
}

var bodyTypes = []string{"txt", "img", "audio", "loc", "video", "file", "cmd", "custom", Unknown}

// Unknown is the selector of an unrecognised event, and the operation of a
// family member imbridge does not recognise.
const Unknown = "unknown"

// All is the selector that chooses every event.
const All = "*"

// noOp is the subject token of selectors that have no operation.
const noOp = "_"

// List returns every canonical selector, in documentation order.
func List() []string {
	var out []string
	for _, f := range families {
		if len(f.ops) == 0 {
			out = append(out, f.name)
			continue
		}
		for _, op := range f.ops {
			out = append(out, f.name+":"+op)
		}
	}
	return out
}

// Of builds the canonical selector of a family and operation ("" for
// families without operations). It panics on a pair outside the
// vocabulary: callers build selectors from the same tables.
func Of(family, op string) string {
	s := family
	if op != "" {
		s += ":" + op
	}
	if !IsCanonical(s) {
		panic(fmt.Sprintf("selector: %q is not canonical", s))
	}
	return s
}

// IsCanonical reports whether s names exactly one kind of event.
func IsCanonical(s string) bool {
	family, op, hasOp := strings.Cut(s, ":")
	for _, f := range families {
		if f.name == family {
			if len(f.ops) == 0 {
				return !hasOp
			}
			return hasOp && slices.Contains(f.ops, op)
		}
	}
	return false
}

// Selector chooses events: a canonical selector, a family name or `*`.
type Selector struct {
	family string // "" for All
	op     string // "" for a whole family
}

// Parse reads a selector and rejects anything outside the vocabulary.
func Parse(s string) (Selector, error) {
	if s == All {
		return Selector{}, nil
	}
	family, op, hasOp := strings.Cut(s, ":")
	for _, f := range families {
		if f.name != family {
			continue
		}
		switch {
		case !hasOp:
			return Selector{family: family}, nil
		case len(f.ops) > 0 && slices.Contains(f.ops, op):
			return Selector{family: family, op: op}, nil
		}
		return Selector{}, fmt.Errorf("unknown selector %q: family %q has no operation %q", s, family, op)
	}
	return Selector{}, fmt.Errorf("unknown selector %q: want a canonical selector such as chat:txt, a family (chat, groupchat, chatroom, muc, roster, userStatus…) or *", s)
}

// ParseAll reads a list of selectors; the first bad one is the error.
func ParseAll(list []string) ([]Selector, error) {
	out := make([]Selector, 0, len(list))
	for _, s := range list {
		sel, err := Parse(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		out = append(out, sel)
	}
	return out, nil
}

// String is the selector's text.
func (s Selector) String() string {
	switch {
	case s.family == "":
		return All
	case s.op == "":
		return s.family
	}
	return s.family + ":" + s.op
}

// Matches reports whether the selector chooses events of the canonical
// selector c.
func (s Selector) Matches(c string) bool {
	if s.family == "" {
		return true
	}
	family, op, _ := strings.Cut(c, ":")
	return family == s.family && (s.op == "" || s.op == op)
}

// MatchesAny reports whether any selector in list chooses c; an empty list
// chooses everything.
func MatchesAny(list []Selector, c string) bool {
	if len(list) == 0 {
		return true
	}
	for _, s := range list {
		if s.Matches(c) {
			return true
		}
	}
	return false
}

// Subject is the event log subject of an event of application appkey with
// the canonical selector c: `<prefix>.<app token>.<family>.<op or _>`.
func Subject(prefix, appkey, c string) string {
	family, op, _ := strings.Cut(c, ":")
	if op == "" {
		op = noOp
	}
	return prefix + "." + AppToken(appkey) + "." + family + "." + op
}

// FilterSubject is the subject filter that chooses what s chooses, for one
// application or (appkey "") for all.
func (s Selector) FilterSubject(prefix, appkey string) string {
	app := "*"
	if appkey != "" {
		app = AppToken(appkey)
	}
	switch {
	case s.family == "":
		return prefix + "." + app + ".*.*"
	case s.op == "" && hasOps(s.family):
		return prefix + "." + app + "." + s.family + ".*"
	case s.op == "":
		return prefix + "." + app + "." + s.family + "." + noOp
	}
	return prefix + "." + app + "." + s.family + "." + s.op
}

// FilterSubjects is the set of subject filters for a list of selectors; an
// empty list chooses everything. Duplicates are removed.
func FilterSubjects(prefix, appkey string, list []Selector) []string {
	if len(list) == 0 {
		list = []Selector{{}}
	}
	var out []string
	for _, s := range list {
		if s.family == "" { // `*` covers every other filter
			return []string{s.FilterSubject(prefix, appkey)}
		}
		if f := s.FilterSubject(prefix, appkey); !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func hasOps(family string) bool {
	for _, f := range families {
		if f.name == family {
			return len(f.ops) > 0
		}
	}
	return false
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
