package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cenkalti/backoff/v5"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
)

// apiKeyEnv holds the key `imbridge tail` sends. The server reads its
// list of keys from IMBRIDGE_API_KEYS; a client holds one.
const apiKeyEnv = "IMBRIDGE_API_KEY"

// tailConfig is what `imbridge tail` was asked to do.
type tailConfig struct {
	addr string
	key  string
	// req is the first call's request. Later calls resume from what was
	// printed (see follower.request).
	req        *imbridgev1.SubscribeEventsRequest
	json       bool
	heartbeats bool
	// backoff spaces the reconnections; reset once a stream delivers.
	backoff backoff.ExponentialBackOff
	// wait sleeps between two attempts; it fails only when ctx ends.
	wait func(ctx context.Context, d time.Duration) error
}

// tail prints the events of a running bridge as they are stored, like
// `stripe listen` or `kubectl logs -f`: `imbridge tail -s chat:txt`.
func tail(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := parseTail(args, getenv, stderr)
	if err != nil {
		return err
	}
	conn, err := grpc.NewClient(cfg.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		// A connection that died without a word (a NAT forgot it) ends
		// the stream as UNAVAILABLE within 40s. The server accepts pings
		// every server.KeepaliveMinClientInterval (10s) at most.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}))
	if err != nil {
		return fmt.Errorf("-addr %q: %w", cfg.addr, err)
	}
	defer conn.Close()
	return followEvents(ctx, conn, cfg, stdout, stderr)
}

// parseTail reads the flags of `imbridge tail`.
func parseTail(args []string, getenv func(string) string, stderr io.Writer) (tailConfig, error) {
	fs := flag.NewFlagSet("imbridge tail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: imbridge tail [flags]   (print events as they are stored; Ctrl-C stops)")
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:9090", "gRPC address of the running bridge")
	key := fs.String("key", "", "API key, sent as authorization: Bearer (env "+apiKeyEnv+")")
	app := fs.String("app", "", "the app whose events to print, org#app; empty for every app")
	var selectors listFlag
	fs.Var(&selectors, "s", "`selector` to print (chat:txt, muc, *…); repeat or separate with commas; default every event")
	fs.Var(&selectors, "selector", "`selector` to print, the same as -s")
	sender := fs.String("sender", "", "only events whose sender_username is this")
	recipient := fs.String("recipient", "", "only events whose recipient_username is this")
	group := fs.String("group", "", "only events in this group or chatroom id")
	from := fs.String("from", "latest", "where to start: earliest or latest")
	after := fs.Uint64("after", 0, "start right after this cursor")
	epoch := fs.String("epoch", "", "with -after: the epoch that came with the cursor; refuses to resume in another log")
	since := fs.String("since", "", "start at events received since a duration ago (10m) or a time (RFC 3339)")
	subscription := fs.String("subscription", "", "join this shared subscription, orgs/{org}/apps/{app}/subscriptions/{id}, acknowledging each event once printed")
	maxOutstanding := fs.Int("max-outstanding", 0, "with -subscription: the most unacknowledged events at once (default the server's, 100)")
	asJSON := fs.Bool("json", false, "print each event as one line of JSON")
	raw := fs.Bool("raw", false, "ask for every field, the vendor's raw_body included")
	heartbeats := fs.Bool("heartbeats", false, "print heartbeats (to stderr)")
	every := fs.Duration("heartbeat-interval", 0, "how often an idle stream sends a heartbeat, 100ms to 5m (default the server's)")
	if err := fs.Parse(args); err != nil {
		return tailConfig{}, err
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return tailConfig{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	req := &imbridgev1.SubscribeEventsRequest{}
	if *raw {
		req.View = imbridgev1.EventView_EVENT_VIEW_FULL
	}
	if *every != 0 {
		req.HeartbeatInterval = durationpb.New(*every)
	}
	if *subscription != "" {
		// A subscription keeps its own filter and position.
		for _, name := range []string{"app", "s", "selector", "sender", "recipient", "group", "from", "after", "epoch", "since"} {
			if set[name] {
				return tailConfig{}, fmt.Errorf("-%s cannot be used with -subscription, which has its own filter and position", name)
			}
		}
		req.Subscription = *subscription
		req.MaxOutstanding = int32(min(max(*maxOutstanding, 0), 1<<20))
	} else {
		if set["max-outstanding"] {
			return tailConfig{}, errors.New("-max-outstanding needs -subscription")
		}
		parent, err := parentOf(*app)
		if err != nil {
			return tailConfig{}, err
		}
		req.Parent = parent
		req.Filter = &imbridgev1.EventFilter{Selectors: selectors, Sender: *sender, Recipient: *recipient, GroupId: *group}
		var starts []string
		for _, name := range []string{"from", "after", "since"} {
			if set[name] {
				starts = append(starts, "-"+name)
			}
		}
		if len(starts) > 1 {
			return tailConfig{}, fmt.Errorf("%s: choose one place to start", strings.Join(starts, " and "))
		}
		if set["epoch"] && !set["after"] {
			return tailConfig{}, errors.New("-epoch goes with -after")
		}
		switch {
		case set["after"]:
			req.Start = &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: *after}
			req.Epoch = *epoch
		case set["since"]:
			t, err := sinceTime(*since, time.Now())
			if err != nil {
				return tailConfig{}, err
			}
			req.Start = &imbridgev1.SubscribeEventsRequest_StartTime{StartTime: timestamppb.New(t)}
		default:
			switch strings.ToLower(*from) {
			case "earliest", "oldest":
				req.Start = &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_EARLIEST}
			case "latest", "newest", "":
				req.Start = &imbridgev1.SubscribeEventsRequest_Position{Position: imbridgev1.StartPosition_START_POSITION_LATEST}
			default:
				return tailConfig{}, fmt.Errorf("-from %q: want earliest or latest", *from)
			}
		}
	}
	return tailConfig{
		addr:       *addr,
		key:        firstNonEmpty(*key, getenv(apiKeyEnv)),
		req:        req,
		json:       *asJSON,
		heartbeats: *heartbeats,
		backoff: backoff.ExponentialBackOff{
			InitialInterval:     250 * time.Millisecond,
			RandomizationFactor: 0.5,
			Multiplier:          2,
			MaxInterval:         30 * time.Second,
		},
		wait: sleep,
	}, nil
}

// listFlag is a repeatable flag whose values may also be separated by
// commas.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(v string) error {
	for s := range strings.SplitSeq(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

// parentOf is the resource name of an appkey `org#app`; empty is every
// app. A resource name is taken as it is.
func parentOf(appkey string) (string, error) {
	if appkey == "" {
		return "orgs/-/apps/-", nil
	}
	if strings.HasPrefix(appkey, "orgs/") {
		return appkey, nil
	}
	org, app, ok := strings.Cut(appkey, "#")
	if !ok || org == "" || app == "" || strings.ContainsAny(appkey, "/ ") || strings.Contains(app, "#") {
		return "", fmt.Errorf("-app %q: want org#app", appkey)
	}
	return "orgs/" + org + "/apps/" + app, nil
}

// sinceTime reads -since: a duration before now, or a time.
func sinceTime(v string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(v); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("-since %q: want a positive duration", v)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("-since %q: want a duration (10m) or an RFC 3339 time (2026-01-02T15:04:05Z)", v)
	}
	return t, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// follower holds one tail's position: what it printed last, so that a new
// call after a disconnect starts right after it.
type follower struct {
	cfg    tailConfig
	client imbridgev1.EventServiceClient
	out    io.Writer
	errOut io.Writer
	// startTime is when the tail began: a stream that started at the
	// newest end and was cut before it learned a cursor resumes from here.
	startTime   time.Time
	startedOnce bool
	// cursor and epoch are the last event printed, or the scanned cursor
	// of the last heartbeat; known once either came.
	cursor uint64
	epoch  string
	known  bool
	// unacked are printed events of a subscription whose acknowledgement
	// has not gone through yet.
	unacked []uint64
	json    protojson.MarshalOptions
}

// followEvents prints events from conn until ctx ends (then it returns
// nil) or the stream fails in a way that retrying cannot fix. Each new
// stream resumes right after the last event printed.
func followEvents(ctx context.Context, conn *grpc.ClientConn, cfg tailConfig, stdout, stderr io.Writer) error {
	if cfg.key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+cfg.key)
	}
	f := &follower{
		cfg:       cfg,
		client:    imbridgev1.NewEventServiceClient(conn),
		out:       stdout,
		errOut:    stderr,
		startTime: time.Now(),
		json:      protojson.MarshalOptions{},
	}
	bo := cfg.backoff
	bo.Reset()
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			// The channel has its own reconnection backoff, which can
			// grow to minutes: ours decides when to try.
			conn.ResetConnectBackoff()
		}
		delivered, err := f.stream(ctx, attempt > 0)
		if ctx.Err() != nil {
			f.lastAcknowledge(ctx)
			return nil
		}
		if !retryable(err) {
			return tailFailed(err)
		}
		if delivered {
			bo.Reset()
		}
		d := bo.NextBackOff()
		where := "from where it started"
		if f.cfg.req.GetSubscription() != "" {
			where = "in " + f.cfg.req.GetSubscription()
		} else if f.known {
			where = "after #" + strconv.FormatUint(f.cursor, 10)
		}
		fmt.Fprintf(stderr, "imbridge tail: %s; reconnecting in %s, resuming %s\n", describe(err), d.Round(time.Millisecond), where)
		if err := cfg.wait(ctx, d); err != nil {
			f.lastAcknowledge(ctx)
			return nil
		}
	}
}

// stream makes one call and prints what it sends until it ends. It says
// whether anything came, and the error the stream ended with.
func (f *follower) stream(ctx context.Context, resumed bool) (delivered bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := f.acknowledge(ctx); err != nil {
		return false, err
	}
	stream, err := f.client.SubscribeEvents(ctx, f.request())
	if err != nil {
		return false, err
	}
	for {
		resp, err := stream.Recv()
		if err != nil {
			return delivered, err
		}
		if !delivered && resumed {
			fmt.Fprintln(f.errOut, "imbridge tail: reconnected")
		}
		delivered = true
		switch kind := resp.GetKind().(type) {
		case *imbridgev1.SubscribeEventsResponse_Event:
			if c := kind.Event.GetCursor(); f.cfg.req.GetSubscription() == "" && f.known && c <= f.cursor {
				// The stream promises none repeated: say so rather than
				// print it twice.
				fmt.Fprintf(f.errOut, "imbridge tail: the server sent #%d again after #%d; skipped\n", c, f.cursor)
				continue
			}
			if err := f.print(kind.Event, resp.GetDeliveryAttempt()); err != nil {
				return delivered, err
			}
			if f.cfg.req.GetSubscription() != "" {
				f.unacked = append(f.unacked, kind.Event.GetCursor())
				if err := f.acknowledge(ctx); err != nil {
					return delivered, err
				}
			}
			f.cursor, f.epoch, f.known = kind.Event.GetCursor(), resp.GetEpoch(), true
		case *imbridgev1.SubscribeEventsResponse_Heartbeat:
			hb := kind.Heartbeat
			if f.cfg.heartbeats {
				fmt.Fprintf(f.errOut, "heartbeat  %s  head #%d  scanned #%d\n", formatTime(hb.GetSendTime()), hb.GetHeadCursor(), hb.GetScannedCursor())
			}
			// Every event up to the scanned cursor was examined and those
			// that match were sent before: resuming after it loses nothing.
			if s := hb.GetScannedCursor(); s != 0 && (!f.known || s > f.cursor) {
				f.cursor, f.known = s, true
			}
			if f.known {
				f.epoch = resp.GetEpoch()
			}
		}
	}
}

// request is the call that continues where the tail stands.
func (f *follower) request() *imbridgev1.SubscribeEventsRequest {
	req := proto.CloneOf(f.cfg.req)
	switch {
	case req.GetSubscription() != "":
		// The server keeps a subscription's position.
	case f.known:
		req.Start = &imbridgev1.SubscribeEventsRequest_AfterCursor{AfterCursor: f.cursor}
		req.Epoch = f.epoch
	case req.GetPosition() == imbridgev1.StartPosition_START_POSITION_LATEST && f.startedOnce:
		// Nothing came before the stream was cut: continue from the
		// moment the tail began, not from the newest end now.
		req.Start = &imbridgev1.SubscribeEventsRequest_StartTime{StartTime: timestamppb.New(f.startTime)}
	}
	f.startedOnce = true
	return req
}

// acknowledge tells the subscription which printed events are done. On a
// retryable failure they stay to be acknowledged again: the stream has
// most likely ended too, and the next one starts with them.
func (f *follower) acknowledge(ctx context.Context) error {
	for len(f.unacked) > 0 {
		batch := f.unacked[:min(len(f.unacked), 1000)]
		_, err := f.client.AcknowledgeEvents(ctx, &imbridgev1.AcknowledgeEventsRequest{Subscription: f.cfg.req.GetSubscription(), Cursors: batch})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if retryable(err) {
				fmt.Fprintf(f.errOut, "imbridge tail: acknowledging %d events: %s; trying again later\n", len(f.unacked), describe(err))
				return nil
			}
			return err
		}
		f.unacked = f.unacked[len(batch):]
	}
	return nil
}

// lastAcknowledge makes one bounded try, once ctx has ended, to
// acknowledge the events printed; those it cannot are delivered again
// after their deadline.
func (f *follower) lastAcknowledge(ctx context.Context) {
	if len(f.unacked) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := f.acknowledge(ctx); err != nil || len(f.unacked) > 0 {
		fmt.Fprintf(f.errOut, "imbridge tail: %d printed events are not acknowledged: they will be delivered again\n", len(f.unacked))
	}
}

// print writes one event to stdout: protojson on one line, or a line for
// people.
func (f *follower) print(ev *imbridgev1.Event, attempt int32) error {
	if f.cfg.json {
		b, err := f.json.Marshal(ev)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(f.out, "%s\n", b)
		return err
	}
	line := eventLine(ev)
	if attempt > 1 {
		line += fmt.Sprintf("  (delivery %d)", attempt)
	}
	_, err := fmt.Fprintln(f.out, line)
	return err
}

// retryable says whether a stream that ended with err may be resumed: the
// server went away or shed load. A stream that ended without a status
// (io.EOF) is resumed too: it has nothing more to say on this call.
func retryable(err error) bool {
	if errors.Is(err, io.EOF) {
		return true
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.ResourceExhausted, codes.Aborted:
		return true
	case codes.Canceled:
		// Not ours (the caller checks its context first): the server or
		// a proxy cut the call.
		return true
	}
	return false
}

// describe is an error with its canonical code and ErrorInfo:
//
//	OUT_OF_RANGE: events after cursor 3 are gone (CURSOR_EXPIRED oldest_cursor=9)
func describe(err error) string {
	if errors.Is(err, io.EOF) {
		return "the server ended the stream"
	}
	st, ok := status.FromError(err)
	if !ok {
		return err.Error()
	}
	out := codeName(st.Code()) + ": " + st.Message()
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok {
			continue
		}
		parts := []string{info.GetReason()}
		keys := make([]string, 0, len(info.GetMetadata()))
		for k := range info.GetMetadata() {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			parts = append(parts, k+"="+info.GetMetadata()[k])
		}
		out += " (" + strings.Join(parts, " ") + ")"
	}
	return out
}

// codeName is a gRPC code as the specification spells it: OUT_OF_RANGE.
func codeName(c codes.Code) string {
	if c == codes.OK {
		return "OK"
	}
	var b strings.Builder
	for i, r := range c.String() {
		if i > 0 && unicode.IsUpper(r) {
			b.WriteByte('_')
		}
		b.WriteRune(unicode.ToUpper(r))
	}
	return b.String()
}

// tailError is the end of a tail that retrying cannot fix. It keeps the
// gRPC status (status.Code finds it).
type tailError struct {
	msg string
	err error
}

func (e *tailError) Error() string { return e.msg }
func (e *tailError) Unwrap() error { return e.err }

// tailFailed is err said for the person at the terminal, with what to do
// about the errors a resuming client meets.
func tailFailed(err error) error {
	msg := "tail: " + describe(err)
	var reason string
	var meta map[string]string
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			if info, ok := d.(*errdetails.ErrorInfo); ok {
				reason, meta = info.GetReason(), info.GetMetadata()
			}
		}
	}
	switch reason {
	case "CURSOR_EXPIRED":
		if oldest, err := strconv.ParseUint(meta["oldest_cursor"], 10, 64); err == nil && oldest > 0 {
			msg += fmt.Sprintf("\nevents were dropped by retention: restart with -after %d to accept the gap, or -from earliest", oldest-1)
		} else {
			msg += "\nevents were dropped by retention: restart with -from earliest to accept the gap"
		}
	case "EPOCH_MISMATCH":
		msg += "\nthe event log was recreated and its cursors name other events: restart with -from earliest or -from latest"
	}
	return &tailError{msg: msg, err: err}
}
