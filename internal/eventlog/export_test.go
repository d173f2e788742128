package eventlog

// Exported for the tests in package eventlog_test.
var (
	SubjectMatches = subjectMatches
	StripField     = stripField
)
