package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The soak's schedule sends every callback first at the request firstSend
// names, in order, and repeats only callbacks already sent, every
// dupEvery-th request.
func TestScheduled(t *testing.T) {
	for _, d := range []int{0, 2, 3, 100} {
		next, repeats := 0, 0
		for k := range 5000 {
			j, repeat := scheduled(k, d)
			switch {
			case repeat != (d > 0 && k%d == d-1):
				t.Fatalf("dupEvery %d: request %d repeat %t", d, k, repeat)
			case repeat && (j < 0 || j >= next):
				t.Fatalf("dupEvery %d: request %d repeats callback %d, but only %d were sent", d, k, j, next)
			case repeat:
				repeats++
			case j != next || firstSend(j, d) != k:
				t.Fatalf("dupEvery %d: request %d sends callback %d first (firstSend %d), want %d", d, k, j, firstSend(j, d), next)
			default:
				next++
			}
		}
		if d > 0 && repeats != 5000/d {
			t.Errorf("dupEvery %d: %d repeats in 5000 requests", d, repeats)
		}
	}
}

// A conn posts on one keep-alive connection, reads every answer to its
// end, and dials again after the server closed it.
func TestConnPost(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.URL.Path != "/cb" || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request line or headers", http.StatusBadRequest)
			return
		}
		if string(b) == "close" {
			w.Header().Set("Connection", "close")
		}
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(strings.Repeat("x", len(b)*100))) // longer than the first read
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()

	c, err := newConn(srv.URL+"/cb", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	for i, body := range []string{"{}", `{"a":1}`, "close", "{}"} {
		status, err := c.post([]byte(body))
		if err != nil || status != http.StatusOK {
			t.Fatalf("post %d: %d %v", i, status, err)
		}
	}
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections for 4 posts, one answered with Connection: close; want 2", n)
	}
	if _, err := newConn("https://example.com/", time.Second); err == nil {
		t.Error("an https target was accepted")
	}
}
