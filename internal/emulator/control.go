package emulator

import (
	"encoding/json"
	"errors"
	"fmt"
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
		retryAfter, latency, err := req.check()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if req.Latency != "" {
			e.SetLatency(latency)
		}
		if req.Count != nil {
			e.FailNext(req.Status, *req.Count, retryAfter)
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

// check refuses a switch the emulator cannot honour (it would answer 204
// and switch nothing on), and reads its durations.
func (req faultRequest) check() (retryAfter, latency time.Duration, err error) {
	duration := func(name, text string) (time.Duration, error) {
		if text == "" {
			return 0, nil
		}
		d, err := time.ParseDuration(text)
		if err != nil || d < 0 {
			return 0, fmt.Errorf("%s: want a duration of 0 or more, got %q", name, text)
		}
		return d, nil
	}
	if retryAfter, err = duration("retry_after", req.RetryAfter); err != nil {
		return 0, 0, err
	}
	if latency, err = duration("latency", req.Latency); err != nil {
		return 0, 0, err
	}
	switch {
	case req.Count == nil && (req.Status != 0 || req.RetryAfter != ""):
		return 0, 0, errors.New("status and retry_after go with a count (0 clears)")
	case req.Count != nil && (*req.Count < 0 || *req.Count > 0 && (req.Status < 400 || req.Status > 599)):
		return 0, 0, errors.New("want a status of 400 to 599 and a count of 0 or more")
	}
	return retryAfter, latency, nil
}
