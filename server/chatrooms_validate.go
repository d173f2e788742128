package server

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The documented vendor limits (shared/spec/chatroom-api.md) that
// ChatroomService checks before anything is sent.
const (
	maxAddMembers        = 100 // POST /chatrooms/{id}/users
	maxRemoveMembers     = 60  // DELETE /chatrooms/{id}/users/{u1,u2…}
	maxMuteMembers       = 100 // POST /chatrooms/{id}/mute
	maxUnmuteMembers     = 60  // DELETE /chatrooms/{id}/mute/{u1,u2…}
	maxAllowlistAdd      = 100 // POST /chatrooms/{id}/white/users
	maxAllowlistRemove   = 60  // DELETE /chatrooms/{id}/white/users/{u1,u2…}
	maxBlocklistAdd      = 60  // POST /chatrooms/{id}/blocks/users
	maxBlocklistRemove   = 60  // DELETE /chatrooms/{id}/blocks/users/{u1,u2…}
	maxBatchGet          = 100 // GET /chatrooms/{id1,id2…} (older docs)
	maxDisplayName       = 128 // characters
	maxDescription       = 512 // characters
	minMaxUsers          = 1
	maxMaxUsers          = 10000
	defaultMaxUsers      = 1000
	maxCustomBytes       = 8 << 10 // 8 KB
	maxAnnouncement      = 512     // characters
	maxTags              = 10      // per member
	maxTagLen            = 32      // characters
	maxAttributesPerCall = 10
	maxAttributeKeyLen   = 128
	maxAttributeValueLen = 4096 // characters
	maxAttributesPerRoom = 100
	maxVendorPageSize    = 1000
	maxRequestIDLen      = 128
)

var (
	// segmentRE is an org, app or room ID as they appear in resource names:
	// nothing that would change the vendor URL (no "/", "," or "#", and
	// no dot segment such as "..").
	segmentRE = notDots{regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)}
	// usernameRE is an Easemob user ID (a path segment of the vendor URL
	// too: never "." or "..").
	usernameRE = notDots{regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)}
	// customRoomIDRE is a custom room ID (vendor `roomid`).
	customRoomIDRE = regexp.MustCompile(`^[a-z0-9]{1,64}$`)
	// attributeKeyRE is a custom room attribute key.
	attributeKeyRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)
)

// violations collects every field a request gets wrong, so that one
// INVALID_ARGUMENT names them all (google.rpc.BadRequest).
type violations struct {
	list []*errdetails.BadRequest_FieldViolation
}

func (v *violations) add(field, format string, args ...any) {
	v.list = append(v.list, &errdetails.BadRequest_FieldViolation{Field: field, Description: fmt.Sprintf(format, args...)})
}

// err is nil if nothing was wrong, else a *badRequest.
func (v *violations) err() error {
	if len(v.list) == 0 {
		return nil
	}
	return &badRequest{violations: v.list}
}

// notDots is a pattern that also refuses the dot segments "." and "..",
// which move a vendor URL to another resource
// (/{org}/{app}/chatrooms/../users/bob is the vendor's user bob); "..."
// is an ordinary segment, and a legal username.
type notDots struct{ *regexp.Regexp }

func (p notDots) MatchString(s string) bool {
	return p.Regexp.MatchString(s) && s != "." && s != ".."
}

// appRef is an app, `orgs/{org}/apps/{app}`.
type appRef struct{ org, app string }

// appkey is the vendor app key, "org#app".
func (a appRef) appkey() string { return a.org + "#" + a.app }

func (a appRef) name() string { return "orgs/" + a.org + "/apps/" + a.app }

// appRefOf splits an appkey, "org#app".
func appRefOf(appkey string) appRef {
	org, app, _ := strings.Cut(appkey, "#")
	return appRef{org, app}
}

// roomName is the resource name of room id in this app.
func (a appRef) roomName(id string) string { return a.name() + "/chatrooms/" + id }

// roomRef is a room, `orgs/{org}/apps/{app}/chatrooms/{chatroom}`.
type roomRef struct {
	appRef
	id string
}

func (r roomRef) name() string { return r.roomName(r.id) }

// segments splits name into its "/"-separated parts and checks that they
// alternate the given collection names with valid IDs; it returns the IDs.
func (v *violations) segments(field, name, pattern string, collections ...string) ([]string, bool) {
	if name == "" {
		v.add(field, "required: %s", pattern)
		return nil, false
	}
	parts := strings.Split(name, "/")
	if len(parts) != 2*len(collections) {
		v.add(field, "%q is not %s", name, pattern)
		return nil, false
	}
	ids := make([]string, len(collections))
	for i, c := range collections {
		if parts[2*i] != c {
			v.add(field, "%q is not %s", name, pattern)
			return nil, false
		}
		ids[i] = parts[2*i+1]
		re, what := segmentRE, "1 to 64 characters of [A-Za-z0-9_.-], not . or .."
		if c == "members" || c == "admins" || c == "mutes" || c == "allowlist" || c == "blocklist" || c == "chatroomSuperAdmins" {
			re, what = usernameRE, "a username: 1 to 64 characters of [A-Za-z0-9_.-], not . or .."
		}
		if !re.MatchString(ids[i]) {
			v.add(field, "%q is not %s: its {%s} segment must be %s", name, pattern, strings.TrimSuffix(c, "s"), what)
			return nil, false
		}
	}
	return ids, true
}

// app parses `orgs/{org}/apps/{app}`.
func (v *violations) app(field, name string) appRef {
	ids, ok := v.segments(field, name, "orgs/{org}/apps/{app}", "orgs", "apps")
	if !ok {
		return appRef{}
	}
	if ids[0] == "-" || ids[1] == "-" {
		v.add(field, "%q: name one app here; - (every app) is for reading events only", name)
		return appRef{}
	}
	return appRef{ids[0], ids[1]}
}

// room parses `orgs/{org}/apps/{app}/chatrooms/{chatroom}`.
func (v *violations) room(field, name string) roomRef {
	ids, ok := v.segments(field, name, "orgs/{org}/apps/{app}/chatrooms/{chatroom}", "orgs", "apps", "chatrooms")
	if !ok {
		return roomRef{}
	}
	return roomRef{appRef{ids[0], ids[1]}, ids[2]}
}

// entry parses `orgs/{org}/apps/{app}/chatrooms/{chatroom}/{collection}/{username}`.
func (v *violations) entry(field, name, collection string) (roomRef, string) {
	ids, ok := v.segments(field, name, "orgs/{org}/apps/{app}/chatrooms/{chatroom}/"+collection+"/{username}",
		"orgs", "apps", "chatrooms", collection)
	if !ok {
		return roomRef{}, ""
	}
	return roomRef{appRef{ids[0], ids[1]}, ids[2]}, ids[3]
}

// announcement parses `orgs/{org}/apps/{app}/chatrooms/{chatroom}/announcement`.
func (v *violations) announcement(field, name string) roomRef {
	room, ok := strings.CutSuffix(name, "/announcement")
	if !ok {
		v.add(field, "%q is not orgs/{org}/apps/{app}/chatrooms/{chatroom}/announcement", name)
		return roomRef{}
	}
	return v.room(field, room)
}

// superAdmin parses `orgs/{org}/apps/{app}/chatroomSuperAdmins/{username}`.
func (v *violations) superAdmin(field, name string) (appRef, string) {
	ids, ok := v.segments(field, name, "orgs/{org}/apps/{app}/chatroomSuperAdmins/{username}", "orgs", "apps", "chatroomSuperAdmins")
	if !ok {
		return appRef{}, ""
	}
	return appRef{ids[0], ids[1]}, ids[2]
}

// username checks one required username.
func (v *violations) username(field, u string) {
	switch {
	case u == "":
		v.add(field, "required")
	case !usernameRE.MatchString(u):
		v.add(field, "%q is not a username: 1 to 64 characters of [A-Za-z0-9_.-], not . or ..", bound(u, 80))
	}
}

// usernames checks a batch: between 1 and max valid usernames, none twice.
func (v *violations) usernames(field string, list []string, max int) {
	switch {
	case len(list) == 0:
		v.add(field, "required: between 1 and %d usernames", max)
		return
	case len(list) > max:
		v.add(field, "%d usernames, at most %d are allowed (vendor limit)", len(list), max)
		return
	}
	seen := make(map[string]int, len(list))
	for i, u := range list {
		f := indexed(field, i)
		if j, dup := seen[strings.ToLower(u)]; dup {
			v.add(f, "%q is given twice (also %s[%d]); usernames are case-insensitive", u, field, j)
			continue
		}
		seen[strings.ToLower(u)] = i
		v.username(f, u)
	}
}

// maxChars checks that s has at most max characters.
func (v *violations) maxChars(field, s string, max int) {
	if n := utf8.RuneCountInString(s); n > max {
		v.add(field, "%d characters, at most %d are allowed (vendor limit)", n, max)
	}
}

// requiredChars checks that s is not empty and has at most max characters.
func (v *violations) requiredChars(field, s string, max int) {
	if s == "" {
		v.add(field, "required: 1 to %d characters", max)
		return
	}
	v.maxChars(field, s, max)
}

// maxUsers checks a room size; zero is allowed only where the vendor
// default applies.
func (v *violations) maxUsers(field string, n int32, zeroOK bool) {
	if (n == 0 && zeroOK) || (n >= minMaxUsers && n <= maxMaxUsers) {
		return
	}
	v.add(field, "%d is out of range: between %d and %d (vendor limit)", n, minMaxUsers, maxMaxUsers)
}

// pageSize checks a page_size and returns the one to use: def for 0, max
// for anything larger.
func (v *violations) pageSize(field string, n int32, def, max int) int {
	switch {
	case n < 0:
		v.add(field, "%d must not be negative", n)
		return def
	case n == 0:
		return def
	case int(n) > max:
		return max
	}
	return int(n)
}

// tag checks a member tag.
func (v *violations) tag(field, t string) {
	v.requiredChars(field, t, maxTagLen)
}

// attributeKey checks a custom attribute key.
func (v *violations) attributeKey(field, k string) {
	switch {
	case k == "":
		v.add(field, "an attribute key must not be empty")
	case len(k) > maxAttributeKeyLen:
		v.add(field, "key of %d characters, at most %d are allowed (vendor limit)", len(k), maxAttributeKeyLen)
	case !attributeKeyRE.MatchString(k):
		v.add(field, "key %q: only [A-Za-z0-9_.-] are allowed (vendor rule)", bound(k, 80))
	}
}

// attributeKeys checks a list of keys: at most max, valid, none twice.
func (v *violations) attributeKeys(field string, keys []string, max int) {
	if len(keys) > max {
		v.add(field, "%d keys, at most %d are allowed (vendor limit)", len(keys), max)
		return
	}
	for i, k := range keys {
		f := indexed(field, i)
		if j := slices.Index(keys[:i], k); j >= 0 {
			v.add(f, "%q is given twice (also %s[%d])", k, field, j)
			continue
		}
		v.attributeKey(f, k)
	}
}

// attributes checks the attributes to set: 1 to 10 pairs, valid keys and
// values.
func (v *violations) attributes(field string, attrs map[string]string) {
	if len(attrs) == 0 {
		v.add(field, "required: between 1 and %d attributes", maxAttributesPerCall)
		return
	}
	if len(attrs) > maxAttributesPerCall {
		v.add(field, "%d attributes, at most %d per call are allowed (vendor limit)", len(attrs), maxAttributesPerCall)
		return
	}
	for _, k := range sortedKeys(attrs) {
		f := field + "[" + k + "]"
		v.attributeKey(f, k)
		v.maxChars(f, attrs[k], maxAttributeValueLen)
	}
}

// duration checks a mute duration: valid, positive, a whole number of unit.
func (v *violations) duration(field string, d *durationpb.Duration, unit string) {
	if err := d.CheckValid(); err != nil {
		v.add(field, "not a valid duration: %v", err)
		return
	}
	if d.GetSeconds() < 0 || d.GetSeconds() == 0 && d.GetNanos() <= 0 {
		// Before AsDuration, which saturates a huge one.
		v.add(field, "must be positive (%ss)", strconv.FormatFloat(float64(d.GetSeconds())+float64(d.GetNanos())/1e9, 'f', -1, 64))
		return
	}
	if d.GetSeconds() >= int64(math.MaxInt64/time.Second) {
		// AsDuration would saturate and report a value never sent.
		v.add(field, "%ds is too long: at most %s; set permanent instead", d.GetSeconds(), time.Duration(math.MaxInt64).Truncate(time.Second))
		return
	}
	dd := d.AsDuration()
	whole := dd.Milliseconds()*1e6 == dd.Nanoseconds()
	if unit == "second" {
		whole = dd.Truncate(1e9) == dd
	}
	if !whole {
		v.add(field, "%s is not a whole number of %ss (the vendor's unit)", dd, unit)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// indexed is the name of item i of a repeated field: "usernames[3]".
func indexed(field string, i int) string { return fmt.Sprintf("%s[%d]", field, i) }

// subscriptionIDRE is the last part of a subscription's name.
var subscriptionIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{0,47}$`)

// subRef is a shared subscription,
// `orgs/{org}/apps/{app}/subscriptions/{subscription}`.
type subRef struct {
	appRef
	id string
}

func (r subRef) name() string { return r.appRef.name() + "/subscriptions/" + r.id }

// subscription parses `orgs/{org}/apps/{app}/subscriptions/{subscription}`.
func (v *violations) subscription(field, name string) subRef {
	const pattern = "orgs/{org}/apps/{app}/subscriptions/{subscription}"
	ids, ok := v.segments(field, name, pattern, "orgs", "apps", "subscriptions")
	if !ok {
		return subRef{}
	}
	if ids[0] == "-" || ids[1] == "-" {
		v.add(field, "%q: a subscription belongs to one app, not -", name)
		return subRef{}
	}
	if !subscriptionIDRE.MatchString(ids[2]) {
		v.add(field, "%q is not %s: its {subscription} segment must be 1 to 48 lowercase letters, digits and -, starting with a letter", name, pattern)
		return subRef{}
	}
	return subRef{appRef{ids[0], ids[1]}, ids[2]}
}
