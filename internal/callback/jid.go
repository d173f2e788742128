package callback

import (
	"strings"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// ParseJid splits a vendor user address,
// `{org#app}_{username}@easemob.com/{os}_{device id}`, into its parts. Parts
// that are absent stay empty; a bare username is just a username.
func ParseJid(raw string) *imbridgev1.Jid {
	j := &imbridgev1.Jid{Raw: raw}
	local, resource, _ := strings.Cut(raw, "/")
	local, _, _ = strings.Cut(local, "@")
	j.Appkey, j.Username = splitAppkey(local)
	if resource != "" {
		j.DeviceOs, j.DeviceId, _ = strings.Cut(resource, "_")
	}
	return j
}

// username is the username in a vendor `from` or `to`: the text itself
// when it is a bare username (or group id), the user part of a full
// address.
func username(raw string) string {
	if raw == "" {
		return ""
	}
	return ParseJid(raw).GetUsername()
}

func jidOrNil(raw string) *imbridgev1.Jid {
	if raw == "" {
		return nil
	}
	return ParseJid(raw)
}

// parseMucID splits `{org#app}_{group id}@conference.easemob.com`. Real
// callbacks also send `org#app` alone or without the suffix.
func parseMucID(raw string) *imbridgev1.MucId {
	if raw == "" {
		return nil
	}
	local, _, _ := strings.Cut(raw, "@")
	m := &imbridgev1.MucId{Raw: raw}
	m.Appkey, m.GroupId = splitAppkey(local)
	return m
}

// splitAppkey splits `org#app_rest` at the first `_` after the `#`: org
// and app names have no `_`, usernames and ids may. Without a `#` the whole
// text is the rest.
func splitAppkey(s string) (appkey, rest string) {
	hash := strings.IndexByte(s, '#')
	if hash < 0 {
		return "", s
	}
	us := strings.IndexByte(s[hash:], '_')
	if us < 0 {
		return s, ""
	}
	return s[:hash+us], s[hash+us+1:]
}
