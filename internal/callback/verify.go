package callback

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
)

// Verify reports whether the head's `security` is the lower- or
// upper-case hex MD5 of callId + secret + timestamp for one of secrets (an
// app has one secret per callback rule, and two during a rotation). Every
// secret is tried, each in constant time, so the time taken does not tell
// which one matched or how much of a wrong signature was right.
func (h Head) Verify(secrets []string) bool {
	var got [md5.Size]byte
	if len(h.f.security) != hex.EncodedLen(md5.Size) {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(h.f.security)); err != nil {
		return false
	}
	match := 0
	for _, secret := range secrets {
		want := md5.Sum([]byte(h.f.callID + secret + h.f.timestamp))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// Verify is Head.Verify on the callback's head.
func (c *Callback) Verify(secrets []string) bool { return c.head.Verify(secrets) }

// Sign returns the signature the vendor would send for these parts, in
// the vendor's lower-case hex; `imbridge send` and tests use it.
func Sign(callID, secret, timestamp string) string {
	sum := md5.Sum([]byte(callID + secret + timestamp))
	return hex.EncodeToString(sum[:])
}
