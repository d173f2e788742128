package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// send succeeds when the bridge answers what the flags ask of it: 200, or
// with -tamper the 401 a wrong signature must get.
func TestSendChecksTheAnswer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper bool
		status int
		ok     bool
	}{
		{"signed, stored", false, http.StatusOK, true},
		{"signed, refused", false, http.StatusUnauthorized, false},
		{"tampered, refused", true, http.StatusUnauthorized, true},
		{"tampered, stored", true, http.StatusOK, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				w.WriteHeader(tc.status)
			}))
			defer srv.Close()
			args := []string{"-url", srv.URL}
			if tc.tamper {
				args = append(args, "-tamper")
			}
			var out strings.Builder
			err := send(context.Background(), append(args, "chat:txt"), func(string) string { return "" }, &out, io.Discard)
			if (err == nil) != tc.ok {
				t.Errorf("answer %d: %v (%s), want ok %v", tc.status, err, strings.TrimSpace(out.String()), tc.ok)
			}
		})
	}
}
