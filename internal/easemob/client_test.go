package easemob

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/imbridge/imbridge/internal/emulator"
)

func TestNewValidates(t *testing.T) {
	t.Parallel()
	good := AppConfig{Appkey: "org#app", BaseURL: "https://a1.easemob.com", ClientID: "id", ClientSecret: testSecret}
	for _, tc := range []struct {
		name string
		edit func(*AppConfig)
		want string // in the error
	}{
		{"no hash", func(c *AppConfig) { c.Appkey = "orgapp" }, `"orgapp"`},
		{"empty org", func(c *AppConfig) { c.Appkey = "#app" }, `"#app"`},
		{"two hashes", func(c *AppConfig) { c.Appkey = "o#a#b" }, `"o#a#b"`},
		{"relative URL", func(c *AppConfig) { c.BaseURL = "a1.easemob.com" }, `"org#app"`},
		{"ftp URL", func(c *AppConfig) { c.BaseURL = "ftp://a1.easemob.com" }, `"org#app"`},
		{"URL with query", func(c *AppConfig) { c.BaseURL = "https://h/?x=1" }, `"org#app"`},
		{"no client ID", func(c *AppConfig) { c.ClientID = "" }, `"org#app": client ID`},
		{"no secret", func(c *AppConfig) { c.ClientSecret = "" }, `"org#app": client secret`},
	} {
		c := good
		tc.edit(&c)
		_, err := New([]AppConfig{c}, Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to name %s", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), testSecret) {
			t.Errorf("%s: err leaks the secret: %v", tc.name, err)
		}
	}
	if _, err := New([]AppConfig{good, good}, Options{}); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate app: err = %v", err)
	}
	if _, err := New([]AppConfig{good}, Options{RateLimits: map[string]float64{"Nope": 1}}); err == nil {
		t.Error("unknown RateLimits key accepted")
	}
	if _, err := New([]AppConfig{good}, Options{RateLimits: map[string]float64{"GetChatrooms": 0}}); err == nil {
		t.Error("zero rate accepted")
	}
	if _, err := New([]AppConfig{good}, Options{MaxAttempts: -1}); err == nil {
		t.Error("negative MaxAttempts accepted")
	}
}

func TestNewAppsAndPrefix(t *testing.T) {
	t.Parallel()
	c, err := New([]AppConfig{
		{Appkey: "org#app", BaseURL: "https://a1.easemob.com/", ClientID: "id", ClientSecret: "s"},
		{Appkey: "o 2#a", BaseURL: "http://127.0.0.1:8080/proxy", ClientID: "id", ClientSecret: "s"},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, ok := c.App("org#app")
	if !ok || a.prefix != "https://a1.easemob.com/org/app" || a.Appkey() != "org#app" {
		t.Errorf("app org#app: %v %q", ok, a.prefix)
	}
	b, ok := c.App("o 2#a")
	if !ok || b.prefix != "http://127.0.0.1:8080/proxy/o%202/a" {
		t.Errorf("app o 2#a: %v %q", ok, b.prefix)
	}
	if _, ok := c.App("nope#x"); ok {
		t.Error("unknown app found")
	}
	if got := c.Appkeys(); len(got) != 2 || got[0] != "o 2#a" {
		t.Errorf("Appkeys = %v", got)
	}
}

func TestDefaultRateLimits(t *testing.T) {
	t.Parallel()
	r := DefaultRateLimits()
	for op, want := range map[string]float64{
		OpToken: 300, "ListChatrooms": 50, "CreateChatroom": 50, "ListJoinedChatrooms": 50,
		"GetChatrooms": 100, "SetAttributes": 100, "UpdateChatroom": 100,
	} {
		if r[op] != want {
			t.Errorf("%s = %v, want %v", op, r[op], want)
		}
	}
	for op, shares := range map[string]string{"TransferChatroomOwner": "UpdateChatroom", "RemoveMembers": "RemoveMember"} {
		if _, ok := r[op]; ok {
			t.Errorf("%s has its own limit; it shares %s's (the same vendor API)", op, shares)
		}
	}
	c, err := New([]AppConfig{{Appkey: "org#app", BaseURL: "https://h", ClientID: "id", ClientSecret: "s"}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, _ := c.App("org#app")
	if a.limiter("RemoveMembers") != a.limiter("RemoveMember") || a.limiter("RemoveMember") == nil {
		t.Error("RemoveMember and RemoveMembers, one vendor API, have separate limiters: together they could call it at twice its limit")
	}
	if len(r) != len(ops)-2 {
		t.Errorf("%d limits for %d ops", len(r), len(ops))
	}
}

func TestTwoClientsShareARegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	cfg := []AppConfig{{Appkey: "org#app", BaseURL: "https://h", ClientID: "id", ClientSecret: "s"}}
	for range 2 {
		c, err := New(cfg, Options{Registerer: reg})
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
}

// The vendor's rate limits are per app, whichever process calls. Two
// processes on one app, each with RateShare 1/2, stay under the limit the
// emulator enforces (a bucket of a second's calls); each at the whole
// rate, they would get 429s.
func TestProcessesShareTheVendorLimit(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(emulator.Options{Apps: []emulator.App{{Appkey: testAppkey, ClientID: testID, ClientSecret: testSecret}}})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	var served, limited atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		emu.ServeHTTP(statusRecorder{ResponseWriter: w, limited: &limited}, r)
	}))
	defer srv.Close()
	var wg sync.WaitGroup
	for range 2 {
		c, err := New([]AppConfig{{Appkey: testAppkey, BaseURL: srv.URL, ClientID: testID, ClientSecret: testSecret}}, Options{RateShare: 0.5})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		a, _ := c.App(testAppkey)
		wg.Go(func() {
			for range 200 { // 2 s of the vendor's 100 calls/s, 4 s at half of it
				_, _ = a.GetAnnouncement(ctxT(t), "100000000000001") // no such room: a 404, counted all the same
			}
		})
	}
	wg.Wait()
	if n := served.Load(); n < 400 {
		t.Fatalf("the vendor served %d requests, want the 400 calls", n)
	}
	if n := limited.Load(); n > 0 {
		t.Errorf("the vendor answered 429 %d times to two processes that each kept half its rate", n)
	}
	if _, err := New(nil, Options{RateShare: 1.5}); err == nil || !strings.Contains(err.Error(), "RateShare") {
		t.Errorf("RateShare 1.5: err = %v, want it refused", err)
	}
}

// statusRecorder counts the 429s a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	limited *atomic.Int64
}

func (s statusRecorder) WriteHeader(code int) {
	if code == http.StatusTooManyRequests {
		s.limited.Add(1)
	}
	s.ResponseWriter.WriteHeader(code)
}
