package app_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/imbridge/imbridge/internal/testwait"
	"github.com/imbridge/imbridge/internal/trigger"
)

// freezingProxy forwards TCP connections to target until freeze, which
// stops the live streams' connections open at that moment from carrying
// anything, without closing them: what a dropped NAT entry, a sleeping
// laptop or a dead proxy leaves behind. Connections opened later work.
type freezingProxy struct {
	addr  string
	mu    sync.Mutex
	conns []*proxiedConn
}

type proxiedConn struct {
	client, upstream net.Conn
	stream, frozen   bool // under freezingProxy.mu
}

func newFreezingProxy(t *testing.T, target string) *freezingProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &freezingProxy{addr: lis.Addr().String()}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		_ = lis.Close()
		p.mu.Lock()
		for _, c := range p.conns {
			_ = c.client.Close()
			_ = c.upstream.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			client, err := lis.Accept()
			if err != nil {
				return
			}
			upstream, err := net.Dial("tcp", target)
			if err != nil {
				_ = client.Close()
				continue
			}
			c := &proxiedConn{client: client, upstream: upstream}
			p.mu.Lock()
			p.conns = append(p.conns, c)
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer func() { _ = dst.Close() }()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					p.mu.Lock()
					if src == client && strings.Contains(string(buf[:n]), "events:subscribe") {
						c.stream = true
					}
					frozen := c.frozen
					p.mu.Unlock()
					if frozen {
						return // held open, carrying nothing, until the cleanup
					}
					if _, werr := dst.Write(buf[:n]); werr != nil || err != nil {
						return
					}
				}
			}
			wg.Go(func() { pipe(upstream, client) })
			wg.Go(func() { pipe(client, upstream) })
		}
	})
	return p
}

// freeze stops the connections that carry a stream now.
func (p *freezingProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.frozen = c.stream
	}
}

// The live view asks for a heartbeat every 5 s and gives up on a stream
// that sent nothing for three: it resumes on a new connection, and shows
// what was stored meanwhile.
func TestConsoleLiveResumesAStreamThatWentSilent(t *testing.T) {
	r := start(t, ingestConfig(t))
	proxy := newFreezingProxy(t, r.app.HTTPAddr().String())
	p := openConsole(t, "http://"+proxy.addr+"/console")
	p.waitFor("the live stream", "#live-state.live")
	proxy.freeze()
	if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	p.until("the event stored while the stream was silent, after the live view resumed", `document.querySelectorAll('#live-rows tr[data-selector="chat:txt"]').length > 0`)
}

// Next pages through the listing List asked for, whatever the form says
// since: its page token belongs to that listing.
func TestConsoleHistoryPagesTheListingAskedFor(t *testing.T) {
	r := start(t, ingestConfig(t))
	for range 7 {
		if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusOK {
			t.Fatalf("POST callback: %d %s", res.code, res.body)
		}
	}
	p := openConsole(t, "http://"+r.app.HTTPAddr().String()+"/console#history")
	p.run("choose pages of 5", chromedp.SetValue(chromedp.CSS("#history-page-size"), "5"))
	p.click("#history-list")
	p.until("a first page of 5", `document.querySelectorAll("#history-rows tr[data-cursor]").length === 5`)
	p.run("choose oldest first, without pressing List", chromedp.SetValue(chromedp.CSS("#history-order"), "LIST_ORDER_OLDEST_FIRST"))
	p.click("#history-next")
	p.until("page 2, or an error", `document.getElementById("history-page").textContent === "page 2" || !!document.querySelector("#history-error .error")`)
	if p.count("#history-error .error") != 0 {
		t.Fatalf("Next answered an error: %s", p.text("#history-error"))
	}
	// Newest first still: page 2 holds the two oldest, cursors 2 and 1.
	if got := value(p, "read page 2", chromedp.Evaluate[string](`[...document.querySelectorAll("#history-rows tr[data-cursor]")].map(r => r.dataset.cursor).join(",")`)); got != "2,1" {
		t.Errorf("page 2 holds cursors %q, want 2,1 (the listing asked for, newest first)", got)
	}
}

// At a glance reads the status every 2 s while shown, with one reading
// loop however often the view is left and shown again, also while a read
// is under way.
func TestConsoleGlanceReadsWithOneLoop(t *testing.T) {
	r := start(t, ingestConfig(t))
	p := openConsole(t, "http://"+r.app.HTTPAddr().String()+"/console#live")
	p.waitFor("the live stream", "#live-state.live")
	_ = value(p, "show At a glance, then leave it and come back three times at once", chromedp.Evaluate[bool](`(() => {
		location.hash = "#glance";
		let n = 0;
		const flip = () => {
			if (n++ >= 6) return;
			location.hash = n % 2 ? "#live" : "#glance";
			setTimeout(flip, 0);
		};
		setTimeout(flip, 0);
		return true;
	})()`))
	reads := `performance.getEntriesByType("resource").filter(e => e.name.endsWith("/v1/status")).length`
	p.until("the first read", reads+" > 0")
	before := value(p, "count reads", chromedp.Evaluate[int](reads))
	time.Sleep(10 * time.Second) // five reads at most; a slow machine reads fewer
	if n := value(p, "count reads", chromedp.Evaluate[int](reads)) - before; n > 6 {
		t.Errorf("At a glance read the status %d times in 10 s, want one read every 2 s", n)
	}
}

// A hidden tab lets go of its stream (a browser keeps six connections to
// a server, and each tab's stream would hold one), and resumes it without
// a gap when shown again.
func TestConsoleLiveLetsGoOfItsStreamWhileHidden(t *testing.T) {
	r := start(t, ingestConfig(t))
	base := "http://" + r.app.HTTPAddr().String()
	p := openConsole(t, base+"/console")
	p.waitFor("the live stream", "#live-state.live")
	streams := func() int {
		res := httpGet(t, base+"/v1/status", testKey)
		var st struct {
			Streams []json.RawMessage `json:"streams"`
		}
		if err := json.Unmarshal([]byte(res.body), &st); err != nil || res.code != http.StatusOK {
			t.Fatalf("GET /v1/status: %d %s (%v)", res.code, res.body, err)
		}
		return len(st.Streams)
	}
	visibility := func(state string) {
		_ = value(p, "make the tab "+state, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
			Object.defineProperty(document, "visibilityState", {value: %q, configurable: true});
			document.dispatchEvent(new Event("visibilitychange"));
			return true;
		})()`, state)))
	}
	visibility("hidden")
	p.until("the live view away", `document.getElementById("live-state").textContent.startsWith("away")`)
	testwait.For(t, time.Minute, 50*time.Millisecond, func() error {
		if n := streams(); n != 0 {
			return fmt.Errorf("%d streams still open", n)
		}
		return nil
	})
	if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	visibility("visible")
	p.until("the event stored while the tab was hidden", `document.querySelectorAll('#live-rows tr[data-selector="chat:txt"]').length > 0`)
	p.waitFor("the live stream again", "#live-state.live")
}
