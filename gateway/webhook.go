package gateway

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/imbridge/imbridge/internal/ingest"
)

// WebhookPath is the route Easemob posts callbacks to.
const WebhookPath = "/v1/callbacks/easemob"

// webhookAnswer is the body of every answer: small (the vendor counts a
// body over 1,000 characters as a failure) and never echoing the request.
type webhookAnswer struct {
	Result string `json:"result"`
	Cursor string `json:"cursor,omitempty"`
	Error  string `json:"error,omitempty"`
}

// Webhook returns the handler of POST /v1/callbacks/easemob. It reads the
// raw body under maxBody (the signature is checked on those bytes) and
// answers what ingest decided; 200 only once the event log acknowledged the
// append.
func Webhook(in *ingest.Ingester, maxBody int64) func(http.ResponseWriter, *http.Request, map[string]string) {
	return func(w http.ResponseWriter, r *http.Request, _ map[string]string) {
		received := time.Now()
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		var out ingest.Outcome
		var tooLarge *http.MaxBytesError
		switch {
		case errors.As(err, &tooLarge):
			out = in.RejectTooLarge(maxBody)
		case err != nil:
			// The vendor hung up mid-body; nothing to answer to.
			return
		default:
			out = in.Ingest(r.Context(), body, received)
		}
		a := webhookAnswer{Result: out.Result, Error: out.Message}
		if out.Cursor != 0 {
			a.Cursor = strconv.FormatUint(out.Cursor, 10)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(out.Status)
		_ = json.NewEncoder(w).Encode(a)
	}
}
