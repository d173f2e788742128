package gateway

import (
	"context"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/protobuf/proto"

	"github.com/imbridge/imbridge/server"
)

// streamWriter is the response writer of every REST call, so that a server
// stream's response can start (200, its content type, flushed) as soon as
// the gRPC stream is open. grpc-gateway sends the headers with the first
// message, and a client of a quiet stream (a rare filter, an idle log)
// would learn that its stream is open only at the first heartbeat, up to
// heartbeat_interval later. Once started, an error that ends the stream
// before any message is its last line {"error": …}, as it is after
// messages, and the status grpc-gateway would then write is dropped.
type streamWriter struct {
	http.ResponseWriter
	started bool
}

// WriteHeader writes the status, unless the stream's response started.
func (w *streamWriter) WriteHeader(code int) {
	if !w.started {
		w.ResponseWriter.WriteHeader(code)
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *streamWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeStreams is a mux middleware that hands the RPCs' routes a
// streamWriter. It is the innermost one: the others see the connection's
// own writer.
func (g *Gateway) writeStreams(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if pat, ok := runtime.HTTPPattern(r.Context()); ok && g.own[pat.String()] {
			next(w, r, params)
			return
		}
		if head, _ := r.Context().Value(headKey{}).(bool); head {
			// A stream answers HEAD with its headers and ends, before it
			// reads anything: net/http drops the body of an answer to
			// HEAD, so a stream left running would never fail a write and
			// would hold the client's kept-alive connection, and a member
			// stream would take events of its subscription for nobody.
			r.Header.Set("Grpc-Metadata-"+server.HeadOnlyMetadata, "1")
		}
		next(&streamWriter{ResponseWriter: w}, r, params)
	}
}

// startStream returns the mux's forward response option that starts a
// server stream's response. grpc-gateway calls the options once with no
// message when the gRPC stream has its headers, which the server sends once
// the stream is open (after its request was checked), and then with each
// message; a unary call's options only ever see its response.
func startStream(m runtime.Marshaler) func(context.Context, http.ResponseWriter, proto.Message) error {
	return func(ctx context.Context, w http.ResponseWriter, msg proto.Message) error {
		sw, ok := w.(*streamWriter)
		if msg != nil || !ok || sw.started {
			return nil
		}
		// A call refused before it opened ended without headers (nil, as
		// grpc-go reads a trailers-only answer): its error gets its status.
		if md, ok := runtime.ServerMetadataFromContext(ctx); !ok || md.HeaderMD == nil {
			return nil
		}
		w.Header().Set("Content-Type", m.ContentType(nil))
		sw.ResponseWriter.WriteHeader(http.StatusOK)
		sw.started = true
		// A client gone already fails the stream's first write.
		_ = http.NewResponseController(sw.ResponseWriter).Flush()
		return nil
	}
}
