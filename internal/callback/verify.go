package callback

import (
	"crypto/md5"
	"crypto/subtle"
	"encoding/hex"
)

// Verify reports whether the callback's `security` is the lower- or
// upper-case hex MD5 of callId + secret + timestamp for one of secrets (an
// app has one secret per callback rule, and two during a rotation). Every
// secret is tried, each in constant time, so the time taken does not tell
// which one matched or how much of a wrong signature was right.
func (c *Callback) Verify(secrets []string) bool {
	var got [md5.Size]byte
	if len(c.w.Security) != hex.EncodedLen(md5.Size) {
		return false
	}
	if _, err := hex.Decode(got[:], []byte(c.w.Security)); err != nil {
		return false
	}
	ts := c.TimestampText()
	match := 0
	for _, secret := range secrets {
		want := md5.Sum([]byte(c.w.CallID + secret + ts))
		match |= subtle.ConstantTimeCompare(got[:], want[:])
	}
	return match == 1
}

// Sign returns the signature the vendor would send for these parts, in
// the vendor's lower-case hex; `imbridge send` and tests use it.
func Sign(callID, secret, timestamp string) string {
	sum := md5.Sum([]byte(callID + secret + timestamp))
	return hex.EncodeToString(sum[:])
}
