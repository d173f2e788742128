package eventlog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// MinDuplicateWindow is the shortest duplicate window Open accepts, and
// DefaultDuplicateWindow the window used when Config.DuplicateWindow is 0.
// The window only has to cover appends of one call id at once (the
// vendor's immediate retry after its 10 s timeout, while the first copy
// may still be appended for up to the webhook's append timeout) and how
// far a process's call id index may lag behind the log (a tick for its
// own appends, about two seconds for others': indexProbeEvery and
// indexGapGrace); the index answers for everything older. JetStream keeps every id of the window in memory and reads them
// all back when it starts, so the window is as short as that allows.
const (
	MinDuplicateWindow     = 20 * time.Second
	DefaultDuplicateWindow = 30 * time.Second
)

// Config chooses where the log lives and how long it keeps events.
type Config struct {
	// DataDir holds this process's call id index (DataDir/callid-index)
	// and, in embedded mode, the server's JetStream store (StoreDir).
	// Required in both modes; every process needs its own.
	DataDir string
	// NATSURL, when set, connects to this external NATS (cluster) instead
	// of embedding a server.
	NATSURL string
	// Replicas of the stream and buckets in external mode (0 = 1). The
	// embedded server has one replica: any other value is an error there.
	Replicas int
	// MaxAge drops events older than this; 0 = unlimited. When set it must
	// be at least the duplicate window.
	MaxAge time.Duration
	// MaxBytes drops the oldest events once the stream is larger than this;
	// 0 = unlimited.
	MaxBytes int64
	// SyncAlways makes the embedded server fsync every write before it
	// acknowledges it (JetStream SyncAlways). Default false: OS-buffered,
	// synced every 2 minutes. An error in external mode: configure
	// `sync_interval: always` on those servers.
	SyncAlways bool
	// Compression is how events are compressed on disk: "" or
	// CompressionEvent (the default), CompressionS2 or CompressionNone.
	// See the constants for the trade; a change applies to events written
	// after it.
	Compression Compression
	// DuplicateWindow is JetStream's duplicate window; 0 =
	// DefaultDuplicateWindow. Values under MinDuplicateWindow are
	// rejected.
	DuplicateWindow time.Duration
	// CallIDIndexTTL is how long the call id index remembers a call id
	// (and so how long dedupe beyond the duplicate window and GetByCallID
	// work); 0 = MaxAge (forever when MaxAge is 0). When set it must be at
	// least the duplicate window. Remembered ids cost local disk, not
	// memory: see the package documentation.
	CallIDIndexTTL time.Duration
	// ListenAddr, embedded mode only, opens a NATS client listener
	// "host:port" (port 0 or -1 = a random port, see Log.ClientURL);
	// "" = no listener.
	ListenAddr string
	// OnAbandoned, when set, is called for every event a shared
	// subscription stopped delivering after its last attempt: the
	// subscription's app and ID, the event's cursor and how many times it
	// was delivered. Every process attached to the log is called.
	OnAbandoned func(appkey, id string, cursor uint64, deliveries int)
	// Logger receives the embedded server's warnings and errors and the
	// log's own; nil = slog.Default().
	Logger *slog.Logger
}

// Compression is how events are compressed on disk.
type Compression string

// The compressions.
//
// CompressionEvent (the default) compresses each event on its own as it
// is appended, with S2 and a dictionary: one learned from the
// deployment's own events (dicts.go), or, until the first is learned, one
// of the vendor's examples built into imbridge (payload.go). It costs
// about 2 µs of one core per event, spread evenly over appends; the
// stream's blocks are not compressed. A chat callback of 514 bytes takes
// about 390 bytes of the stream's disk with a learned dictionary (505
// with the built-in one): about 260 of event and the message's own 130.
//
// CompressionS2 is JetStream's block compression: the same callback takes
// about 255 bytes, as headers, subjects and text repeat across the events
// of a block. But each closed block (8 MB) is compressed at once, and on
// a 2-core machine that burst lifts the p99 of callbacks at 2,000/s from
// 4-5 ms to 9-10 ms. For machines whose disk matters more than latency.
//
// CompressionNone stores events as they are: about 1,020 bytes.
//
// Every setting reads what any other wrote; a change applies to events
// (and blocks) written after it.
const (
	CompressionS2    Compression = "s2"
	CompressionEvent Compression = "event"
	CompressionNone  Compression = "none"
)

// Store is c as a JetStream stream setting: S2 for CompressionS2, none
// otherwise.
func (c Compression) Store() jetstream.StoreCompression {
	if c == CompressionS2 {
		return jetstream.S2Compression
	}
	return jetstream.NoCompression
}

// perEvent says whether Append compresses each event: for "" and
// CompressionEvent.
func (c Compression) perEvent() bool { return c == "" || c == CompressionEvent }

// Log is the durable event log. It is safe for concurrent use.
type Log struct {
	cfg      Config
	log      *slog.Logger
	srv      *server.Server // nil in external mode
	nc       *nats.Conn
	js       jetstream.JetStream
	stream   jetstream.Stream
	rooms    jetstream.KeyValue
	dicts    *dicts
	replicas int
	index    *callIDIndex
	window   *dupWindow // how far back the duplicate window surely reaches

	subjects subjectCache
	// Appends spread over several connections: one connection is one
	// reader goroutine in the server, which caps throughput.
	appendConns []appendConn
	nextConn    atomic.Uint32
	chatrooms   chatrooms // the in-memory chatroom set
	watchDone   chan struct{}
	watcher     jetstream.KeyWatcher

	epoch  string
	tailMu sync.Mutex
	tail   *tail // started by the first Follow
	// abandoned receives the advisories of events past their last attempt.
	abandoned *nats.Subscription

	conns connWatch // which of the connections to NATS are down

	closeOnce sync.Once
	closeErr  error
}

// ConfigError is one setting of Config that cannot work. Field is the
// Config field's name, so that a caller that took the setting from a user
// can name it as the user wrote it.
type ConfigError struct {
	Field string
	// Problem completes a sentence that begins with the setting's name.
	Problem string
}

func (e *ConfigError) Error() string { return "eventlog: " + e.Field + " " + e.Problem }

// Validate reports every setting that cannot work, each as a *ConfigError
// (joined). Open calls it; a caller that builds a Config from user input
// calls it first to name the user's settings in its errors.
func (c *Config) Validate() error {
	external := c.NATSURL != ""
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &ConfigError{Field: field, Problem: fmt.Sprintf(format, args...)})
	}
	if c.DataDir == "" {
		bad("DataDir", "is required: it holds the call id index (and the embedded server's store)")
	}
	if c.Replicas < 0 {
		bad("Replicas", "%d must not be negative", c.Replicas)
	}
	if !external && c.Replicas > 1 {
		bad("Replicas", "%d: the embedded server keeps one replica (more need NATSURL)", c.Replicas)
	}
	if external && c.SyncAlways {
		bad("SyncAlways", "applies to the embedded server only: set sync_interval: always on the external NATS servers")
	}
	if external && c.ListenAddr != "" {
		bad("ListenAddr", "%q applies to the embedded server only", c.ListenAddr)
	}
	if c.MaxAge < 0 {
		bad("MaxAge", "%v must not be negative (0 keeps events forever)", c.MaxAge)
	}
	if c.MaxBytes < 0 {
		bad("MaxBytes", "%d must not be negative (0 is unlimited)", c.MaxBytes)
	}
	switch c.Compression {
	case "", CompressionS2, CompressionEvent, CompressionNone:
	default:
		bad("Compression", "%q: want %q, %q or %q", c.Compression, CompressionEvent, CompressionS2, CompressionNone)
	}
	if c.DuplicateWindow != 0 && c.DuplicateWindow < MinDuplicateWindow {
		bad("DuplicateWindow", "%v is shorter than the minimum %v: the vendor retries and redelivers callbacks", c.DuplicateWindow, MinDuplicateWindow)
	}
	if c.CallIDIndexTTL < 0 {
		bad("CallIDIndexTTL", "%v must not be negative", c.CallIDIndexTTL)
	}
	if win := c.window(); c.CallIDIndexTTL > 0 && c.CallIDIndexTTL < win {
		bad("CallIDIndexTTL", "%v is shorter than the duplicate window %v", c.CallIDIndexTTL, win)
	}
	if win := c.window(); c.MaxAge > 0 && c.MaxAge < win {
		bad("MaxAge", "%v is shorter than the duplicate window %v: a retried callback could be stored twice", c.MaxAge, win)
	}
	if c.ListenAddr != "" {
		if _, _, err := listenHostPort(c.ListenAddr); err != nil {
			bad("ListenAddr", "%v", err)
		}
	}
	if external {
		first, mixed := true, false
		var ws bool // the first server's kind: nats.go gives it to servers without a scheme
		for i, u := range strings.Split(c.NATSURL, ",") {
			if u = strings.TrimSpace(u); u == "" {
				continue // nats.go skips empty entries
			}
			scheme := "nats"
			if ws {
				scheme = "ws"
			}
			isWS, problem := natsURLProblem(u, scheme)
			if problem != "" {
				bad("NATSURL", "server %d: %s", i+1, problem)
				continue
			}
			if first {
				first, ws = false, isWS
			}
			mixed = mixed || isWS != ws
		}
		if mixed {
			bad("NATSURL", "mixes websocket (ws://, wss://) and other servers, which nats.go refuses")
		}
	}
	return errors.Join(errs...)
}

// natsURLProblem says what is wrong with one server of a NATS URL list, as
// nats.go reads it (without a scheme, scheme's), or "" when nothing is;
// and whether it is a websocket server. It never repeats the URL: it may
// hold a password.
func natsURLProblem(s, scheme string) (ws bool, problem string) {
	if !strings.Contains(s, "://") {
		s = scheme + "://" + s
	}
	u, err := url.Parse(s) // the scheme in lower case, as nats.go reads it
	switch {
	case err != nil:
		return false, "not a URL; want nats://host:port (or tls://, ws://, wss://), several separated by commas"
	case u.Scheme != "nats" && u.Scheme != "tls" && u.Scheme != "ws" && u.Scheme != "wss":
		return false, fmt.Sprintf("scheme %q: want nats, tls, ws or wss", u.Scheme)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return false, fmt.Sprintf("port %q: want 1 to 65535", p)
		}
	}
	return u.Scheme == "ws" || u.Scheme == "wss", ""
}

func (c *Config) window() time.Duration {
	if c.DuplicateWindow == 0 {
		return DefaultDuplicateWindow
	}
	return c.DuplicateWindow
}

func (c *Config) indexTTL() time.Duration {
	if c.CallIDIndexTTL > 0 {
		return c.CallIDIndexTTL
	}
	return c.MaxAge
}

func listenHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("%q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("%q: bad port %q", addr, p)
	}
	if port == 0 {
		port = server.RANDOM_PORT // Go's convention; NATS would read 0 as 4222
	}
	return host, port, nil
}

// WatchConnection calls f with whether every connection of the log to
// NATS is up: at once, then each time one is lost or every one is back.
// An embedded server's in-process connections never drop; an external
// cluster's do, and appends wait for them (then fail at their deadlines)
// until they reconnect. f runs on NATS's callback goroutine, one call at a
// time, and must not block. A later call replaces f.
func (l *Log) WatchConnection(f func(up bool)) {
	l.conns.mu.Lock()
	defer l.conns.mu.Unlock()
	l.conns.f = f
	f(len(l.conns.down) == 0)
}

// connWatch is the set of the log's connections that are down, and who
// is told when it empties or stops being empty.
type connWatch struct {
	mu   sync.Mutex
	down map[*nats.Conn]bool
	f    func(up bool)
}

func (w *connWatch) set(nc *nats.Conn, up bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if up {
		delete(w.down, nc)
	} else {
		if w.down == nil {
			w.down = map[*nats.Conn]bool{}
		}
		w.down[nc] = true
	}
	if w.f != nil {
		w.f(len(w.down) == 0)
	}
}

// Open starts the embedded server (unless cfg.NATSURL is set), connects,
// creates or updates the stream and the KV buckets, and loads the known
// chatrooms. It is idempotent: opening an existing log keeps its events and
// applies changed retention settings. ctx bounds the whole call.
func Open(ctx context.Context, cfg Config) (_ *Log, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	l := &Log{cfg: cfg, log: cfg.Logger, replicas: 1}
	if l.log == nil {
		l.log = slog.Default()
	}
	if cfg.NATSURL != "" && cfg.Replicas > 0 {
		l.replicas = cfg.Replicas
	}
	l.chatrooms.init()
	defer func() {
		if err != nil {
			l.shutdown(context.WithoutCancel(ctx))
		}
	}()

	connTimeout := 10 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		connTimeout = max(time.Until(dl), time.Millisecond)
	}
	opts := []nats.Option{
		nats.Name("imbridge-eventlog"),
		nats.Timeout(connTimeout),
		nats.DrainTimeout(10 * time.Second),
		// Asynchronous errors (a permission denied, a slow consumer) go
		// to the log, not to nats.go's default, standard error.
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			l.log.Warn("eventlog: NATS reported an error", "err", err)
		}),
	}
	if cfg.NATSURL == "" {
		if err := l.startServer(); err != nil {
			return nil, err
		}
		// No write deadline in process: over net.Pipe each one is a new
		// timer for every flush (about one a callback), and a server
		// that stops reading its pipe has stopped the process anyway;
		// appends still end at their contexts' deadlines.
		opts = append(opts, nats.InProcessServer(l.srv), nats.NoReconnect(), nats.FlusherTimeout(0))
	} else {
		opts = append(opts, nats.MaxReconnects(-1),
			nats.DisconnectErrHandler(func(nc *nats.Conn, _ error) { l.conns.set(nc, false) }),
			nats.ReconnectHandler(func(nc *nats.Conn) { l.conns.set(nc, true) }))
	}
	// The handlers of the main connection log; appends' connections
	// come and go with it.
	mainOpts := append(slices.Clip(opts),
		nats.DisconnectErrHandler(func(nc *nats.Conn, err error) {
			l.conns.set(nc, false)
			if err != nil {
				l.log.Warn("eventlog: disconnected from NATS", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			l.conns.set(nc, true)
			l.log.Info("eventlog: reconnected to NATS", "url", nc.ConnectedUrlRedacted())
		}))
	l.nc, err = nats.Connect(cfg.NATSURL, mainOpts...)
	if err != nil {
		return nil, fmt.Errorf("eventlog: connect: %w", err)
	}
	if l.js, err = jetstream.New(l.nc); err != nil {
		return nil, fmt.Errorf("eventlog: jetstream: %w", err)
	}
	if err := l.setup(ctx); err != nil {
		return nil, err
	}
	last := l.stream.CachedInfo().State.LastSeq
	idx, checkpoint, err := openIndex(filepath.Join(cfg.DataDir, indexDirName), cfg.indexTTL(), l.epoch, last, l.log)
	if err != nil {
		return nil, err
	}
	l.index = idx
	idx.window = l.window
	if err := idx.start(ctx, l.stream, l, checkpoint, last); err != nil {
		return nil, err
	}
	for range appendConnCount {
		nc, err := nats.Connect(cfg.NATSURL, opts...)
		if err != nil {
			return nil, fmt.Errorf("eventlog: connect: %w", err)
		}
		js, err := jetstream.New(nc,
			jetstream.WithPublishAsyncMaxPending(appendMaxPending),
			jetstream.WithPublishAsyncTimeout(defaultTimeout))
		if err != nil {
			nc.Close()
			return nil, fmt.Errorf("eventlog: jetstream: %w", err)
		}
		l.appendConns = append(l.appendConns, appendConn{nc, js})
	}
	if err := l.startWatcher(ctx); err != nil {
		return nil, err
	}
	if err := l.watchAbandoned(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *Log) startServer() error {
	opts := &server.Options{
		ServerName: "imbridge",
		JetStream:  true,
		StoreDir:   l.cfg.DataDir,
		DontListen: true,
		NoSigs:     true,
		NoLog:      true,
		SyncAlways: l.cfg.SyncAlways,
		MaxPayload: EmbeddedMaxPayload,
	}
	if l.cfg.ListenAddr != "" {
		host, port, _ := listenHostPort(l.cfg.ListenAddr) // validated
		opts.DontListen, opts.Host, opts.Port = false, host, port
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("eventlog: embedded NATS server: %w", err)
	}
	srv.SetLoggerV2(serverLogger{l.log}, false, false, false)
	l.srv = srv
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		return errors.New("eventlog: embedded NATS server not ready after 10s")
	}
	if !srv.JetStreamEnabled() {
		return errors.New("eventlog: embedded NATS server started without JetStream (see the log)")
	}
	return nil
}

func (l *Log) setup(ctx context.Context) error {
	storage := jetstream.FileStorage
	maxBytes := l.cfg.MaxBytes
	if maxBytes == 0 {
		maxBytes = -1
	}
	// The window the stream had, which a change here records: a raise
	// reaches back only as time passes. A new stream stored nothing yet.
	l.window = newDupWindow(l.cfg.window())
	var metadata map[string]string
	switch s, err := l.js.Stream(ctx, StreamName); {
	case err == nil:
		l.window = windowOf(s.CachedInfo().Config)
		l.window.set(l.cfg.window(), time.Now())
		metadata = l.window.metadata(s.CachedInfo().Config.Metadata)
	case !errors.Is(err, jetstream.ErrStreamNotFound):
		return fmt.Errorf("eventlog: stream %s: %w", StreamName, err)
	}
	var err error
	l.stream, err = l.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name:         StreamName,
		Description:  "imbridge: every accepted vendor callback, as imbridge.v1.Event",
		Subjects:     []string{SubjectPrefix + ".>"},
		Retention:    jetstream.LimitsPolicy,
		MaxConsumers: -1,
		MaxMsgs:      -1,
		MaxBytes:     maxBytes,
		MaxAge:       l.cfg.MaxAge,
		MaxMsgSize:   -1,
		Discard:      jetstream.DiscardOld,
		Storage:      storage,
		Replicas:     l.replicas,
		Duplicates:   l.cfg.window(),
		AllowDirect:  true,
		// S2 on every block with CompressionS2; by default Append
		// compresses each event instead.
		Compression: l.cfg.Compression.Store(),
		Metadata:    metadata,
	})
	if err != nil {
		return fmt.Errorf("eventlog: create or update stream %s: %w", StreamName, err)
	}
	l.epoch = epochOf(l.stream.CachedInfo().Created)
	l.window.adopt(l.stream.CachedInfo().Config, time.Now())
	// Earlier versions kept the call id index in a KV bucket, every key of
	// which the server holds in memory: the local index replaces it. On a
	// cluster, processes of an earlier version may still use it.
	if _, err := l.js.KeyValue(ctx, legacyCallIDBucket); err == nil {
		if l.cfg.NATSURL != "" {
			l.log.Warn("eventlog: the local call id index replaces the bucket "+legacyCallIDBucket+": delete it once every imbridge process on the cluster runs this version",
				"bucket", legacyCallIDBucket)
		} else if err := l.js.DeleteKeyValue(ctx, legacyCallIDBucket); err != nil {
			l.log.Warn("eventlog: delete the old call id bucket", "bucket", legacyCallIDBucket, "err", err)
		} else {
			l.log.Info("eventlog: deleted the old call id bucket: the local call id index replaces it", "bucket", legacyCallIDBucket)
		}
	}
	if l.rooms, err = l.bucket(ctx, ChatroomBucket, "imbridge: group ids known to be chatrooms"); err != nil {
		return err
	}
	// Made whatever the compression: a log written with learned
	// dictionaries is read under every setting.
	dictKV, err := l.bucket(ctx, DictBucket, "imbridge: compression dictionaries learned from the events, by number; events need theirs to be read")
	if err != nil {
		return err
	}
	l.dicts = newDicts(dictKV, func(ctx context.Context, req msgGetRequest) (*storedMsg, error) {
		return l.leaderGetMsg(ctx, dictStream, req)
	}, l.oldestEvent, l.log, l.cfg.SyncAlways)
	return l.dicts.start(ctx, l.cfg.Compression.perEvent())
}

// oldestEvent is when the log's oldest event was stored, by the servers'
// clock; when the log holds none, when its last one was (zero if never):
// any event to come is stored later.
func (l *Log) oldestEvent(ctx context.Context) (time.Time, error) {
	info, err := l.stream.Info(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if info.State.Msgs == 0 {
		return info.State.LastTime, nil
	}
	return info.State.FirstTime, nil
}

// bucket creates or updates one of the log's KV buckets: on disk, with
// the stream's replicas, keeping the last value of each key.
func (l *Log) bucket(ctx context.Context, name, description string) (jetstream.KeyValue, error) {
	kv, err := l.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      name,
		Description: description,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    l.replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("eventlog: create or update bucket %s: %w", name, err)
	}
	return kv, nil
}

// ClientURL is the embedded server's client URL when Config.ListenAddr
// opened a listener, "" otherwise (no listener, or external mode).
func (l *Log) ClientURL() string {
	if l.srv == nil || l.cfg.ListenAddr == "" {
		return ""
	}
	return l.srv.ClientURL()
}

// Close stops the chatroom watcher, drains the connections (waiting for
// in-flight requests) and, in embedded mode, shuts the server down and waits
// for it. Call it after every caller of the Log has returned; calls after
// Close fail. Close is idempotent.
func (l *Log) Close() error { return l.CloseContext(context.Background()) }

// CloseContext is Close bounded by ctx: when ctx ends before the
// connections have drained (servers that stopped answering), they are
// closed at once, and the error says so. Only the first call's ctx counts.
func (l *Log) CloseContext(ctx context.Context) error {
	l.closeOnce.Do(func() { l.closeErr = l.shutdown(ctx) })
	return l.closeErr
}

func (l *Log) shutdown(ctx context.Context) error {
	var errs []error
	l.tailMu.Lock()
	l.tail.stop()
	l.tailMu.Unlock()
	l.dicts.close()
	if err := l.index.close(); err != nil {
		errs = append(errs, fmt.Errorf("eventlog: close the call id index: %w", err))
	}
	if l.abandoned != nil {
		_ = l.abandoned.Unsubscribe()
	}
	// The watcher's stop asks the servers; past ctx, the connections'
	// close below ends it.
	watcherStopped := make(chan error, 1)
	if l.watcher != nil {
		go func() { watcherStopped <- l.watcher.Stop() }()
	} else {
		watcherStopped <- nil
	}
	select {
	case err := <-watcherStopped:
		watcherStopped <- err
	case <-ctx.Done():
	}
	var conns []*nats.Conn
	for _, c := range l.appendConns {
		conns = append(conns, c.nc)
	}
	if l.nc != nil {
		conns = append(conns, l.nc)
	}
	errs = append(errs, drainAll(ctx, conns))
	if err := <-watcherStopped; err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
		errs = append(errs, fmt.Errorf("eventlog: stop chatroom watcher: %w", err))
	}
	if l.watchDone != nil {
		<-l.watchDone
	}
	if l.srv != nil {
		l.srv.Shutdown()
		l.srv.WaitForShutdown()
	}
	return errors.Join(errs...)
}

// drainAll drains conns at once, each within its drain timeout, and closes
// those still open when ctx ends.
func drainAll(ctx context.Context, conns []*nats.Conn) error {
	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, nc := range conns {
		wg.Go(func() { errs[i] = drain(nc) })
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		for _, nc := range conns {
			nc.Close()
		}
		<-done
		errs = append(errs, fmt.Errorf("eventlog: drain: %w", ctx.Err()))
	}
	return errors.Join(errs...)
}

// drain drains nc and waits until it is closed.
func drain(nc *nats.Conn) error {
	if nc.IsClosed() {
		return nil
	}
	closed := make(chan struct{})
	var once sync.Once
	nc.SetClosedHandler(func(*nats.Conn) { once.Do(func() { close(closed) }) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		if !errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("eventlog: drain: %w", err)
		}
	}
	if !nc.IsClosed() {
		<-closed
	}
	return nil
}

// appendConnCount is how many connections Append spreads over.
const appendConnCount = 4

// appendMaxPending bounds the appends awaiting their acknowledgement on one
// connection: 4 × 8192 is far above what the webhook lets in at once, so
// it only stops a runaway. An append past it waits up to 200 ms for room,
// then fails as unavailable (the vendor retries).
const appendMaxPending = 8192

type appendConn struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// serverLogger hands the embedded server's warnings and errors to slog;
// notices, debug and trace lines are dropped.
type serverLogger struct{ l *slog.Logger }

func (s serverLogger) Noticef(string, ...any) {}
func (s serverLogger) Debugf(string, ...any)  {}
func (s serverLogger) Tracef(string, ...any)  {}
func (s serverLogger) Warnf(format string, v ...any) {
	s.l.Warn("nats-server: " + fmt.Sprintf(format, v...))
}
func (s serverLogger) Errorf(format string, v ...any) {
	s.l.Error("nats-server: " + fmt.Sprintf(format, v...))
}
func (s serverLogger) Fatalf(format string, v ...any) {
	s.l.Error("nats-server fatal: " + fmt.Sprintf(format, v...))
}
