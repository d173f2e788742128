package emulator

import (
	"encoding/json"
	"net/http"
	"time"
)

// ControlPath is where Control is mounted by `imbridge emulate`: outside
// the vendor's API, whose paths all start with /{org}/{app}.
const ControlPath = "/_emulator/"

// faultRequest is the body of POST /_emulator/faults.
type faultRequest struct {
	// Status and Count: the next Count operation requests answer Status
	// (429 or 5xx); Count 0 clears it.
	Status int  `json:"status"`
	Count  *int `json:"count"`
	// RetryAfter and Latency are durations as text ("1s", "250ms").
	RetryAfter string `json:"retry_after"`
	Latency    string `json:"latency"`
}

// Control is the emulator's switchboard over HTTP, for people and programs
// that run it as a process (`imbridge emulate`) rather than in Go tests:
//
//	POST /_emulator/faults        {"status":429,"count":5,"retry_after":"1s"} → FailNext
//	POST /_emulator/faults        {"latency":"200ms"}                         → SetLatency
//	POST /_emulator/expire-tokens                                             → ExpireTokens
//	GET  /_emulator/requests                                                  → Requests
//
// It has no authentication: the emulator is for loopback and tests.
func (e *Emulator) Control() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+ControlPath+"faults", func(w http.ResponseWriter, r *http.Request) {
		var req faultRequest
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			http.Error(w, "want a JSON object: "+err.Error(), http.StatusBadRequest)
			return
		}
		if dec.More() {
			http.Error(w, "want one JSON object", http.StatusBadRequest)
			return
		}
		count := 0
		if req.Count != nil {
			count = *req.Count
		}
		if count < 0 || count > 0 && (req.Status < 400 || req.Status > 599) || req.Count == nil && req.Status != 0 {
			http.Error(w, "want a status of 400 to 599 and a count of 0 or more", http.StatusBadRequest)
			return
		}
		var retryAfter, latency time.Duration
		var err error
		if req.RetryAfter != "" {
			if retryAfter, err = time.ParseDuration(req.RetryAfter); err != nil {
				http.Error(w, "retry_after: "+err.Error(), http.StatusBadRequest)
				return
			}
		}
		if req.Latency != "" {
			if latency, err = time.ParseDuration(req.Latency); err != nil || latency < 0 {
				http.Error(w, "latency: want a duration of 0 or more", http.StatusBadRequest)
				return
			}
		}
		if req.RetryAfter != "" && retryAfter < 0 {
			http.Error(w, "retry_after: want a duration of 0 or more", http.StatusBadRequest)
			return
		}
		if req.RetryAfter != "" && req.Count == nil {
			// Nothing to put it on: FailNext runs only with a count.
			http.Error(w, "retry_after: goes with a status and a count", http.StatusBadRequest)
			return
		}
		if req.Latency != "" {
			e.SetLatency(latency)
		}
		if req.Count != nil {
			e.FailNext(req.Status, count, retryAfter)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("POST "+ControlPath+"expire-tokens", func(w http.ResponseWriter, _ *http.Request) {
		e.ExpireTokens()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+ControlPath+"requests", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(e.Requests())
	})
	return mux
}
