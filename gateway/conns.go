package gateway

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// headerWatch counts connections closed while a request's headers were
// awaited or being read: a client slower than the read-header deadline
// (which the server cuts off), or one that gave up before its request was
// read (a bare TCP probe counts too). Go's server has no
// hook for its header timeout; the connection states and one handler
// wrapper tell it apart: a request whose first bytes arrived (StateActive)
// but whose handler never ran.
type headerWatch struct {
	phases sync.Map // net.Conn → *atomic.Int32
	cut    prometheus.Counter
}

// Phases of a connection. A new connection is awaiting its first
// request's headers: one that sends nothing before the deadline is cut too.
const (
	phaseHeaders  int32 = iota // awaiting or reading a request's headers
	phaseHandling              // the request is in a handler
	phaseIdle                  // between requests (IdleTimeout applies)
)

type phaseKey struct{}

func newHeaderWatch(reg prometheus.Registerer) (*headerWatch, error) {
	w := &headerWatch{cut: prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "imbridge", Subsystem: "http", Name: "header_reads_cut_total",
		Help: "Connections closed while a request's headers were awaited or being read: a client slower than http_read_header_timeout, or one that gave up.",
	})}
	if reg != nil {
		if err := reg.Register(w.cut); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// connContext gives each connection's requests its phase (http.Server
// ConnContext).
func (w *headerWatch) connContext(ctx context.Context, c net.Conn) context.Context {
	p := new(atomic.Int32)
	w.phases.Store(c, p)
	return context.WithValue(ctx, phaseKey{}, p)
}

// connState follows a connection's states (http.Server ConnState).
func (w *headerWatch) connState(c net.Conn, s http.ConnState) {
	v, ok := w.phases.Load(c)
	if !ok {
		return
	}
	p := v.(*atomic.Int32)
	switch s {
	case http.StateActive:
		p.CompareAndSwap(phaseIdle, phaseHeaders)
	case http.StateIdle:
		p.Store(phaseIdle)
	case http.StateHijacked, http.StateClosed:
		w.phases.Delete(c)
		if s == http.StateClosed && p.Load() == phaseHeaders {
			w.cut.Inc()
		}
	}
}

// handler marks a request as read in full before h runs.
func (w *headerWatch) handler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if p, ok := r.Context().Value(phaseKey{}).(*atomic.Int32); ok {
			p.Store(phaseHandling)
		}
		h.ServeHTTP(rw, r)
	})
}
