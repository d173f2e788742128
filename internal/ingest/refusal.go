package ingest

// Refusal is why a callback was not accepted. Its text is the `reason`
// label of imbridge_callbacks_rejected_total and the `result` of the
// webhook's answer; what each one answers over HTTP is the webhook's
// business (gateway/webhook.go). This file is the whole vocabulary.
type Refusal string

const (
	// RefusalMalformed: the body is not a JSON object, or a signed body of
	// a known app is not valid JSON.
	RefusalMalformed Refusal = "malformed"
	// RefusalTooLarge: the body is over the webhook's limit, or so large
	// that even its raw bytes do not fit the event log.
	RefusalTooLarge Refusal = "too_large"
	// RefusalTimeout: the body did not arrive within the read deadline.
	RefusalTimeout Refusal = "timeout"
	// RefusalUnknownApp: no appkey, or one that is not configured.
	RefusalUnknownApp Refusal = "unknown_app"
	// RefusalBadSignature: the signature matches none of the app's secrets.
	RefusalBadSignature Refusal = "bad_signature"
	// RefusalUnsigned: no signature, and the app does not accept the body's
	// selector unsigned.
	RefusalUnsigned Refusal = "unsigned"
	// RefusalMissingCallID: a signature without the callId it covers.
	RefusalMissingCallID Refusal = "missing_call_id"
	// RefusalMissingTimestamp: a signature that does not match, on a body
	// without the timestamp it covers.
	RefusalMissingTimestamp Refusal = "missing_timestamp"
	// RefusalStale: the vendor timestamp is outside the configured
	// tolerance.
	RefusalStale Refusal = "stale_timestamp"
	// RefusalUnavailable: the event log did not take the callback in time;
	// retrying can fix it.
	RefusalUnavailable Refusal = "store_unavailable"
	// RefusalInternal: a fault inside imbridge; the log has the details.
	RefusalInternal Refusal = "internal"
)
