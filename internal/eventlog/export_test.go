package eventlog

// Exported for the tests in package eventlog_test.
var StripField = stripField

// CallIDKey is the call id index key of a call id.
var CallIDKey = callIDKey
