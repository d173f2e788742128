package eventlog

// Exported for the tests in package eventlog_test.
var StripField = stripField
