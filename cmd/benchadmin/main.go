// Command benchadmin measures what imbridge adds to a chatroom
// administration call: the same call (get one chatroom) made directly to
// the vendor's API, through imbridge over gRPC, and through imbridge's REST
// gateway, against the same upstream in the same run.
//
// Run it with `go run ./cmd/benchadmin` (make bench-admin); -h lists the
// flags.
//
// # What runs
//
// Everything runs in this one process, on loopback: the emulator of the
// vendor's chatroom API (internal/emulator) as the upstream, imbridge
// (app.New and Run, with the emulator configured as the app's vendor base
// URL, exactly as a real vendor would be), and the caller. The direct
// baseline is imbridge's own vendor client (internal/easemob) calling the
// emulator, so both sides pay for the same client, HTTP and emulator work;
// the difference is imbridge: gRPC, its interceptors, validation, the
// gateway for REST.
//
// # Load
//
// The paths take turns, one call at a time, so that whatever else the
// machine does falls on all three alike: call k goes to path k mod 3, and
// calls are paced at -rate a second in all. imbridge's client keeps to the
// vendor's documented 100/s for this operation by spacing its calls at least
// 10 ms apart, so -rate must keep two calls through imbridge (gRPC then
// REST) that far apart for no call to wait on the limiter: the default 80/s
// spaces them 12.5 ms. -warmup rounds come first and are not measured. The report gives p50, p99 and the mean
// per path, and the latency imbridge adds (path minus direct).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/easemob"
	"github.com/imbridge/imbridge/internal/emulator"
)

const (
	appkey       = "bench#admin"
	clientID     = "bench-client"
	clientSecret = "bench-secret"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "benchadmin:", err)
		os.Exit(1)
	}
}

func run() error {
	calls := flag.Int("calls", 1000, "measured calls per path")
	warmup := flag.Int("warmup", 50, "unmeasured calls per path first")
	rate := flag.Float64("rate", 80, "calls per second in all, the paths in turn (at most 100, imbridge's client limit for this operation)")
	flag.Parse()
	switch {
	case *calls < 1:
		return fmt.Errorf("-calls %d: want at least 1", *calls)
	case *warmup < 0:
		return fmt.Errorf("-warmup %d: want 0 or more", *warmup)
	case !(*rate > 0 && *rate <= 100):
		return fmt.Errorf("-rate %g: want more than 0 and at most 100", *rate)
	}
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)

	// The upstream.
	emu, err := emulator.New(emulator.Options{
		Apps:            []emulator.App{{Appkey: appkey, ClientID: clientID, ClientSecret: clientSecret}},
		AutoCreateUsers: true,
		Logger:          quiet,
	})
	if err != nil {
		return err
	}
	defer emu.Close()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	upstream := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = upstream.Serve(lis) }()
	defer upstream.Close()
	base := "http://" + lis.Addr().String()

	// The direct baseline, and a room to read.
	direct, err := easemob.New([]easemob.AppConfig{{Appkey: appkey, BaseURL: base, ClientID: clientID, ClientSecret: clientSecret}}, easemob.Options{Logger: quiet})
	if err != nil {
		return err
	}
	defer direct.Close()
	vendor, _ := direct.App(appkey)
	room, err := vendor.CreateChatroom(ctx, easemob.CreateChatroom{Name: "bench", Description: "bench", Owner: "alice"})
	if err != nil {
		return fmt.Errorf("create the room: %w", err)
	}

	// imbridge, with the emulator as its vendor.
	dir, err := os.MkdirTemp("", "benchadmin-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cfg := config.Default()
	cfg.GRPCAddr, cfg.HTTPAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", dir
	cfg.Apps = []config.App{{Appkey: appkey, Secrets: []string{"s"}, Easemob: &config.Easemob{BaseURL: base, ClientID: clientID, ClientSecret: clientSecret}}}
	a, err := app.New(cfg, quiet)
	if err != nil {
		return err
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	defer func() { stop(); <-done }()
	conn, err := grpc.NewClient(a.GRPCAddr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	rooms := imbridgev1.NewChatroomServiceClient(conn)
	name := "orgs/bench/apps/admin/chatrooms/" + room
	restURL := "http://" + a.HTTPAddr().String() + "/v1/" + name
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, DisableCompression: true}}

	paths := []struct {
		name string
		call func(context.Context) error
	}{
		{"direct (client → emulator)", func(ctx context.Context) error {
			_, err := vendor.GetChatrooms(ctx, room)
			return err
		}},
		{"imbridge gRPC", func(ctx context.Context) error {
			_, err := rooms.GetChatroom(ctx, &imbridgev1.GetChatroomRequest{Name: name})
			return err
		}},
		{"imbridge REST (gateway)", func(ctx context.Context) error {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, restURL, nil)
			res, err := hc.Do(req)
			if err != nil {
				return err
			}
			defer res.Body.Close()
			_, _ = io.Copy(io.Discard, res.Body)
			if res.StatusCode != http.StatusOK {
				return fmt.Errorf("REST answered %s", res.Status)
			}
			return nil
		}},
	}
	fmt.Printf("benchadmin: GetChatroom, %d rounds of the three paths in turn, %.0f calls/s, after %d warm-up rounds; GOMAXPROCS %d, %s/%s\n\n",
		*calls, *rate, *warmup, runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	calls3 := make([]func(context.Context) error, len(paths))
	for i, p := range paths {
		calls3[i] = p.call
	}
	lats, err := measure(ctx, calls3, *warmup, *calls, *rate)
	if err != nil {
		return err
	}
	fmt.Printf("%-28s %10s %10s %10s\n", "path", "p50", "p99", "mean")
	var p50s, p99s []time.Duration
	for i, p := range paths {
		lat := lats[i]
		p50, p99, mean := percentile(lat, 50), percentile(lat, 99), meanOf(lat)
		p50s, p99s = append(p50s, p50), append(p99s, p99)
		fmt.Printf("%-28s %10s %10s %10s\n", p.name, us(p50), us(p99), us(mean))
	}
	fmt.Printf("\nadded by imbridge over gRPC: p50 %s, p99 %s\n", us(p50s[1]-p50s[0]), us(p99s[1]-p99s[0]))
	fmt.Printf("added by imbridge over REST: p50 %s, p99 %s\n", us(p50s[2]-p50s[0]), us(p99s[2]-p99s[0]))
	return nil
}

// measure runs warm+n rounds, each calling every path once in turn, one
// call per tick of rate a second, and returns each path's latencies of the
// last n rounds.
func measure(ctx context.Context, calls []func(context.Context) error, warm, n int, rate float64) ([][]time.Duration, error) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	out := make([][]time.Duration, len(calls))
	for round := range warm + n {
		for i, call := range calls {
			<-tick.C
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			start := time.Now()
			err := call(cctx)
			took := time.Since(start)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("path %d: %w", i, err)
			}
			if round >= warm {
				out[i] = append(out[i], took)
			}
		}
	}
	return out, nil
}

// percentile is the nearest-rank percentile p of d: the smallest value
// that at least p% of d are at most.
func percentile(d []time.Duration, p int) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[max(0, (len(s)*p+99)/100-1)]
}

func meanOf(d []time.Duration) time.Duration {
	var sum time.Duration
	for _, x := range d {
		sum += x
	}
	return sum / time.Duration(len(d))
}

func us(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }
