package eventlog

// Exported for the tests in package eventlog_test.
var StripField = stripField

// CallIDKey is the call id index key of a call id.
var CallIDKey = callIDKey

// SetTailMaxEntries bounds the tail of logs opened afterwards, until the
// test ends.
func SetTailMaxEntries(t interface{ Cleanup(func()) }, n int) {
	old := tailMaxEntries
	tailMaxEntries = n
	t.Cleanup(func() { tailMaxEntries = old })
}
