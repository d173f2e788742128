package eventlog

// The size budget of events, in one place. Everything follows from what a
// gRPC client accepts by default in one message (4 MiB): a page of
// ListEvents must fit in it, so a single stored event must too, with room
// to spare.
const (
	// MaxEventBytes is the largest marshalled event the log stores. A
	// callback that decodes into more (JSON numbers grow as protobuf
	// Values) is stored with its raw body and without the typed body.
	MaxEventBytes = 3 << 20
	// MaxPageBytes bounds the events of one ListEvents page; an event
	// larger than what is left comes on the next page.
	MaxPageBytes = 3<<20 + 512<<10
	// EmbeddedMaxPayload is the embedded server's largest message, well
	// above MaxEventBytes so that the server is never the limit. NATS warns
	// above 8 MiB.
	EmbeddedMaxPayload = 8 << 20
	// headerRoom is what a message's headers may take of max_payload.
	headerRoom = 4 << 10
)

// MaxBodyFor is the largest callback body whose event always fits
// maxEvent bytes: the event holds the raw body and the fields decoded from
// it, which together are at most its size again.
func MaxBodyFor(maxEvent int) int64 { return int64(maxEvent / 2) }

// MaxEventBytes is the largest marshalled event Append takes: MaxEventBytes,
// or less when the server's max_payload is lower (an external cluster's is
// 1 MiB by default).
func (l *Log) MaxEventBytes() int {
	return min(MaxEventBytes, int(l.nc.MaxPayload())-headerRoom)
}
