// Package selector is the vocabulary imbridge uses to name and choose
// events: the rule selectors of the Easemob console (`chat:txt`, `muc:kick`,
// `roster:add`, `userStatus:login`…) and what each one chooses. How they
// map onto the event log's subjects is the event log's business
// (internal/eventlog/subjects.go).
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
		"set_metadata", "delete_metadata", "group_member_metadata_update",
		"disable", "enable", "add_super_admin", "remove_super_admin", Unknown,
	}},
	{"roster", []string{"add", "remove", "accept", "decline", "ban", "allow", Unknown}},
	{"userStatus", []string{"login", "logout", "replaced", Unknown}},
	{"read_ack", nil},
	{"channel_ack", nil},
	{"keyword_alert", nil},
	{"reaction", nil},
	{"thread", nil},
	{"edit", nil},
	{"moderation", nil},
	{"push", nil},
	{Unknown, nil},
}

var bodyTypes = []string{"txt", "img", "audio", "loc", "video", "file", "cmd", "custom", Unknown}

// Unknown is the selector of an unrecognised event, and the operation of a
// family member imbridge does not recognise.
const Unknown = "unknown"

// All is the selector that chooses every event.
const All = "*"

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
		return Selector{}, fmt.Errorf("unknown selector %.64q: family %.64q has no operation %.64q", s, family, op)
	}
	return Selector{}, fmt.Errorf("unknown selector %.64q: want a canonical selector such as chat:txt, a family (chat, groupchat, chatroom, muc, roster, userStatus…) or *", s)
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

// Family is the family the selector chooses ("" for `*`).
func (s Selector) Family() string { return s.family }

// Op is the operation the selector chooses ("" for a whole family or `*`).
func (s Selector) Op() string { return s.op }

// HasOps reports whether the family's selectors carry an operation
// (`chat:txt`) rather than being the family name alone (`recall`).
func HasOps(family string) bool {
	for _, f := range families {
		if f.name == family {
			return len(f.ops) > 0
		}
	}
	return false
}
