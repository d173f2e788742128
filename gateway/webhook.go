package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/imbridge/imbridge/internal/ingest"
)

// WebhookPath is the route Easemob posts callbacks to.
const WebhookPath = "/v1/callbacks/easemob"

// WebhookOptions tune the webhook route.
type WebhookOptions struct {
	// MaxBodyBytes bounds a body; a larger one is answered 413.
	MaxBodyBytes int64
	// BodyReadTimeout bounds reading the body once the headers are in; a
	// body that has not arrived by then is answered 408 and the connection
	// closed, so that a slow client cannot hold the route.
	BodyReadTimeout time.Duration
}

// webhookAnswer is the body of every answer: small (the vendor counts a
// body over 1,000 characters as a failure) and never echoing the request.
type webhookAnswer struct {
	Result string `json:"result"`
	Cursor string `json:"cursor,omitempty"`
	Error  string `json:"error,omitempty"`
}

// refusalStatus is the HTTP contract of the webhook: the status of each
// refusal. Only what retrying can fix gets a 5xx, since the vendor retries
// those; every other refusal is final.
var refusalStatus = map[ingest.Refusal]int{
	ingest.RefusalMalformed:        http.StatusBadRequest,
	ingest.RefusalMissingCallID:    http.StatusBadRequest,
	ingest.RefusalMissingTimestamp: http.StatusBadRequest,
	ingest.RefusalTooLarge:         http.StatusRequestEntityTooLarge,
	ingest.RefusalTimeout:          http.StatusRequestTimeout,
	ingest.RefusalUnknownApp:       http.StatusUnauthorized,
	ingest.RefusalBadSignature:     http.StatusUnauthorized,
	ingest.RefusalUnsigned:         http.StatusUnauthorized,
	ingest.RefusalStale:            http.StatusUnauthorized,
	ingest.RefusalUnavailable:      http.StatusServiceUnavailable,
	ingest.RefusalInternal:         http.StatusInternalServerError,
}

// resultText is the `result` of an accepted callback's answer.
var resultText = map[ingest.Result]string{
	ingest.Stored:    "stored",
	ingest.Duplicate: "duplicate",
	ingest.Dropped:   "dropped",
}

// Webhook returns the handler of POST /v1/callbacks/easemob. It reads the
// raw body within the size limit and the read deadline (the signature is
// checked on those bytes), runs it through ingest, and answers: 200 only
// once the event log acknowledged the append (or the callback was a
// duplicate or dropped by a rule), the status of refusalStatus otherwise.
func Webhook(in *ingest.Ingester, opts WebhookOptions) func(http.ResponseWriter, *http.Request, map[string]string) {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		received := time.Now()
		rc := http.NewResponseController(w)
		if opts.BodyReadTimeout > 0 {
			_ = rc.SetReadDeadline(received.Add(opts.BodyReadTimeout))
		}
		tooLarge := func() ingest.Outcome {
			return in.Refuse(ingest.RefusalTooLarge, "body over "+strconv.FormatInt(opts.MaxBodyBytes, 10)+" bytes")
		}
		if r.ContentLength > opts.MaxBodyBytes {
			// Refused unread: a sender that waits for 100 Continue sends
			// nothing, and nothing is read of one that does not.
			w.Header().Set("Connection", "close")
			writeAnswer(w, tooLarge())
			return
		}
		body, err := readBody(http.MaxBytesReader(w, r.Body, opts.MaxBodyBytes), r.ContentLength, opts.MaxBodyBytes)
		var out ingest.Outcome
		var overLimit *http.MaxBytesError
		switch {
		case errors.As(err, &overLimit):
			out = tooLarge()
		case errors.Is(err, os.ErrDeadlineExceeded):
			out = in.Refuse(ingest.RefusalTimeout, "body not received within "+opts.BodyReadTimeout.String())
			w.Header().Set("Connection", "close")
		case err != nil:
			// The body could not be read whole: the client hung up (then
			// nobody reads this), or it framed the body badly or sent less
			// than it announced. Nothing was stored, so never the implicit
			// 200 of a handler that writes nothing.
			out = in.Refuse(ingest.RefusalMalformed, "body could not be read in full")
			w.Header().Set("Connection", "close")
		default:
			_ = rc.SetReadDeadline(time.Time{})
			out = in.Ingest(r.Context(), body, received)
		}
		writeAnswer(w, out)
	}
}

// maxPrealloc bounds what readBody allocates on the strength of an
// announced length alone, before the bytes arrive: a request of a few
// headers must not make the server hold max_body_bytes for
// body_read_timeout. Typical callbacks are far smaller.
const maxPrealloc = 64 << 10

// readBody reads r to its end, in one allocation when the request announced
// its length (size, -1 when unknown) within the limit and maxPrealloc:
// io.ReadAll would start at 512 bytes and grow, copying, past a typical
// callback's size.
func readBody(r io.Reader, size, limit int64) ([]byte, error) {
	if size < 0 || size > limit {
		return io.ReadAll(r)
	}
	// One byte more than announced, so that the read that finds the end
	// has room and nothing grows.
	b := make([]byte, 0, min(size, maxPrealloc)+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case err == io.EOF:
			return b, nil
		case err != nil:
			return b, err
		case len(b) == cap(b):
			b = append(b, 0)[:len(b)] // more than announced: grow as ReadAll does
		}
	}
}

func writeAnswer(w http.ResponseWriter, out ingest.Outcome) {
	status, a := http.StatusOK, webhookAnswer{Result: resultText[out.Result]}
	if out.Result == ingest.Refused {
		status, a = refusalStatus[out.Refusal], webhookAnswer{Result: string(out.Refusal), Error: out.Detail}
		if status == 0 {
			status = http.StatusInternalServerError
		}
	}
	if out.Cursor != 0 {
		a.Cursor = strconv.FormatUint(out.Cursor, 10)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(a)
}
