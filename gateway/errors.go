package gateway

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/imbridge/imbridge/server"
)

// Reasons of the errors the gateway itself answers, in the ErrorInfo of
// domain server.ErrorDomain. An error the gRPC server returned without an
// ErrorInfo gets the name of its code (UNIMPLEMENTED, UNAVAILABLE…).
const (
	// ReasonNotFound: no route has this path; metadata "path".
	ReasonNotFound = "NOT_FOUND"
	// ReasonMethodNotAllowed: the path exists but not with this method
	// (HTTP 405, the Allow header lists those it has); metadata "method".
	ReasonMethodNotAllowed = "METHOD_NOT_ALLOWED"
	// ReasonInvalidArgument: a path or query parameter does not parse, or
	// the body is not the JSON of the request; metadata "field" names the
	// parameter as it was written ("cursor", "pageSize", "body").
	ReasonInvalidArgument = server.ReasonInvalidArgument
)

// handleError answers an error as grpc-gateway does (the HTTP status of its
// gRPC code, a google.rpc.Status body), after making sure that the status
// carries an ErrorInfo.
func handleError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	var httpErr *runtime.HTTPStatusError
	if errors.As(err, &httpErr) {
		st := status.Convert(httpErr.Err)
		if st.Code() == codes.Unknown && httpErr.HTTPStatus == http.StatusBadRequest {
			// A path grpc-gateway could not unescape.
			st = newStatus(codes.InvalidArgument, "path: "+st.Message(), ReasonInvalidArgument, map[string]string{"path": r.URL.Path})
		}
		err = &runtime.HTTPStatusError{HTTPStatus: httpErr.HTTPStatus, Err: withErrorInfo(ctx, r, st).Err()}
	} else {
		err = withErrorInfo(ctx, r, status.Convert(err)).Err()
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// handleStreamError gives an error that ends a REST stream (a
// {"error": …} line of the newline-delimited JSON) its ErrorInfo.
func handleStreamError(ctx context.Context, err error) *status.Status {
	return withErrorInfo(ctx, nil, status.Convert(err))
}

// handleRoutingError answers a request no route takes: 404 when no route
// has its path, 405 with an Allow header when routes have the path but not
// the method.
func (g *Gateway) handleRoutingError(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	var err error
	switch httpStatus {
	case http.StatusMethodNotAllowed:
		allow := g.routes.allowed(r)
		w.Header().Set("Allow", strings.Join(allow, ", "))
		st := newStatus(codes.Unimplemented,
			fmt.Sprintf("method %s is not allowed on %s; allowed: %s", r.Method, r.URL.Path, strings.Join(allow, ", ")),
			ReasonMethodNotAllowed, map[string]string{"method": r.Method})
		err = &runtime.HTTPStatusError{HTTPStatus: http.StatusMethodNotAllowed, Err: st.Err()}
	case http.StatusBadRequest:
		err = newStatus(codes.InvalidArgument, fmt.Sprintf("path: want a path starting with /, got %.64q", r.URL.Path),
			ReasonInvalidArgument, map[string]string{"field": "path"}).Err()
	default:
		err = newStatus(codes.NotFound, fmt.Sprintf("no such path: %s", r.URL.Path),
			ReasonNotFound, map[string]string{"path": r.URL.Path}).Err()
	}
	handleError(ctx, mux, m, w, r, err)
}

// httpError answers err, outside a handler of the mux, as the mux's error
// handler does.
func (g *Gateway) httpError(w http.ResponseWriter, r *http.Request, err error) {
	_, out := runtime.MarshalerForRequest(g.mux, r)
	runtime.HTTPError(r.Context(), g.mux, out, w, r, err)
}

// routingError answers, outside the mux's own routing, as handleRoutingError
// does: 404 for a file a route does not have, 405 for a method.
func (g *Gateway) routingError(w http.ResponseWriter, r *http.Request, httpStatus int) {
	_, out := runtime.MarshalerForRequest(g.mux, r)
	g.handleRoutingError(r.Context(), g.mux, out, w, r, httpStatus)
}

// withErrorInfo returns st if it has an ErrorInfo already (the gRPC server's
// errors do), else st with one. An INVALID_ARGUMENT that the gateway raised
// while reading the request (r; nil for a stream error) is diagnosed again
// so that its message and "field" name the parameter as the caller wrote it.
func withErrorInfo(ctx context.Context, r *http.Request, st *status.Status) *status.Status {
	for _, d := range st.Details() {
		if _, ok := d.(*errdetails.ErrorInfo); ok {
			return st
		}
	}
	if st.Code() == codes.InvalidArgument && r != nil {
		if perr := diagnose(ctx, r); perr != nil {
			return newStatus(codes.InvalidArgument, perr.Error(), ReasonInvalidArgument, map[string]string{"field": perr.field})
		}
		if strings.Contains(st.Message(), "http: request body too large") {
			return bodyTooLarge()
		}
		if b, ok := r.Body.(*deadlineBody); ok && b.timedOut {
			// limitBody's deadline: say so, without the sockets' addresses.
			return newStatus(codes.InvalidArgument, "body: not received in time", ReasonInvalidArgument, map[string]string{"field": "body"})
		}
		if msg, ok := bodyError(st.Message()); ok {
			return newStatus(codes.InvalidArgument, "body: "+msg, ReasonInvalidArgument, map[string]string{"field": "body"})
		}
	}
	info := &errdetails.ErrorInfo{Reason: code.Code(st.Code()).String(), Domain: server.ErrorDomain}
	withInfo, err := st.WithDetails(info)
	if err != nil {
		return st
	}
	return withInfo
}

// protoPrefix is how protojson's errors start ("proto: " or, so that
// nobody matches it, "proto:\u00a0").
var protoPrefix = regexp.MustCompile(`^proto:[\s\x{00a0}]+`)

// bodyMark starts the message of a body that is not JSON at all (see
// jsonMarshaler.NewDecoder).
const bodyMark = "body is not JSON: "

// bodyError tells a message of protojson, which failed to decode the body,
// or of the JSON reader before it (bodyMark), and returns it without its
// prefix.
func bodyError(msg string) (string, bool) {
	if rest, ok := strings.CutPrefix(msg, bodyMark); ok {
		return "not JSON: " + rest, true
	}
	loc := protoPrefix.FindStringIndex(msg)
	if loc == nil {
		return "", false
	}
	return msg[loc[1]:], true
}

func newStatus(c codes.Code, msg, reason string, metadata map[string]string) *status.Status {
	st := status.New(c, msg)
	withInfo, err := st.WithDetails(&errdetails.ErrorInfo{Reason: reason, Domain: server.ErrorDomain, Metadata: metadata})
	if err != nil {
		return st
	}
	return withInfo
}

// routeTable is a mux with the gateway's routes whose handlers only record
// that they were chosen: it answers which methods a path allows without
// re-implementing grpc-gateway's path matching.
type routeTable struct{ mux *runtime.ServeMux }

// customVerbs are the verbs of the custom methods' routes (acknowledge,
// batchAdd…), read from the OpenAPI document generated with the routes.
var customVerbs = sync.OnceValue(func() map[string]bool {
	verbs := make(map[string]bool)
	for _, o := range restOps() {
		last := o.segs[len(o.segs)-1]
		if i := strings.LastIndexByte(last, ':'); i >= 0 && !strings.Contains(last[i:], "}") {
			verbs[last[i+1:]] = true
		}
	}
	return verbs
})

// swallowedVerb reports whether the route r matched has no verb but took
// a custom method's for part of its last path parameter: the route of
// {name=…/subscriptions/*} also matches …/subscriptions/s:acknowledge,
// with methods the custom method does not have.
func swallowedVerb(r *http.Request) bool {
	last := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	i := strings.LastIndexByte(last, ':')
	if i < 0 || !customVerbs()[last[i+1:]] {
		return false
	}
	pat, ok := runtime.HTTPPattern(r.Context())
	return ok && pat.Verb() == ""
}

// MaxRequestBytes bounds the body of a REST call: the gRPC server takes no
// message over 4 MiB, and grpc-gateway reads a body whole before the call,
// and so before its API key is checked.
const MaxRequestBytes = 4 << 20

// limitBody is a mux middleware that bounds the body of every REST call
// (not the routes of HandlePath, which bound their own): one declared
// larger is refused at once, unread; one that grows larger fails its read.
func (g *Gateway) limitBody(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if pat, ok := runtime.HTTPPattern(r.Context()); ok && g.own[pat.String()] {
			next(w, r, params)
			return
		}
		if r.ContentLength > MaxRequestBytes {
			g.httpError(w, r, bodyTooLarge().Err())
			return
		}
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, MaxRequestBytes)
			// A body read before the API key is checked must arrive in
			// time, or a client trickling it holds the connection (shared
			// with the webhook) forever. The deadline goes once the body
			// is read: a stream's connection must stay readable.
			if r.ContentLength != 0 && g.bodyReadTimeout > 0 {
				rc := http.NewResponseController(w)
				if rc.SetReadDeadline(time.Now().Add(g.bodyReadTimeout)) == nil {
					r.Body = &deadlineBody{ReadCloser: r.Body, rc: rc}
				}
			}
		}
		next(w, r, params)
	}
}

// deadlineBody clears the connection's read deadline once its body has
// been read to the end.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
	// timedOut: a read failed at the deadline (withErrorInfo tells it by
	// this, not by a message that a body's own text could hold).
	timedOut bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		b.timedOut = true
	}
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

func bodyTooLarge() *status.Status {
	return newStatus(codes.InvalidArgument, fmt.Sprintf("body: over %d bytes", MaxRequestBytes), ReasonInvalidArgument, map[string]string{"field": "body"})
}

// refuseSwallowedVerb is a mux middleware that answers a request
// swallowedVerb tells as a wrong method on the custom method's path (405).
func (g *Gateway) refuseSwallowedVerb(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		if swallowedVerb(r) {
			g.routingError(w, r, http.StatusMethodNotAllowed)
			return
		}
		next(w, r, params)
	}
}

type routeHitKey struct{}

// probeMethods are the methods a 405 may list in Allow.
var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

func newRouteTable() *routeTable {
	ignore := func(context.Context, *runtime.ServeMux, runtime.Marshaler, http.ResponseWriter, *http.Request, error) {
	}
	return &routeTable{mux: runtime.NewServeMux(
		runtime.WithMiddlewares(func(runtime.HandlerFunc) runtime.HandlerFunc {
			return func(_ http.ResponseWriter, r *http.Request, _ map[string]string) {
				if hit, ok := r.Context().Value(routeHitKey{}).(*bool); ok && !swallowedVerb(r) {
					*hit = true
				}
			}
		}),
		runtime.WithErrorHandler(ignore),
		runtime.WithRoutingErrorHandler(func(context.Context, *runtime.ServeMux, runtime.Marshaler, http.ResponseWriter, *http.Request, int) {}),
		runtime.WithDisablePathLengthFallback(),
	)}
}

// allowed lists the methods that have a route for r's path.
func (t *routeTable) allowed(r *http.Request) []string {
	var allow []string
	for _, method := range probeMethods {
		var hit bool
		probe := r.Clone(context.WithValue(r.Context(), routeHitKey{}, &hit))
		probe.Method, probe.Header, probe.Body = method, http.Header{}, http.NoBody
		t.mux.ServeHTTP(discardWriter{}, probe)
		if hit {
			allow = append(allow, method)
		}
	}
	return slices.Clip(allow)
}

type discardWriter struct{}

func (discardWriter) Header() http.Header         { return http.Header{} }
func (discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (discardWriter) WriteHeader(int)             {}
