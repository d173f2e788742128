package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/testlog"
	"github.com/imbridge/imbridge/internal/trigger"
)

// The browser tests drive Debian's headless Chromium over the DevTools
// protocol (chromedp) against a real imbridge whose chatroom calls go to
// the embedded emulator. Without /usr/bin/chromium they are skipped, unless
// IMBRIDGE_REQUIRE_BROWSER is set (CI sets it): then they fail.

const chromium = "/usr/bin/chromium"

// browserWait bounds each wait for something to appear in the page. Far
// above what anything takes, so that a busy 2-core machine under -race
// cannot break the test; it only turns a hang into a failure.
const browserWait = 90 * time.Second

// browser starts a fresh headless Chromium for t and returns its context.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("IMBRIDGE_REQUIRE_BROWSER") != "" {
			t.Fatalf("IMBRIDGE_REQUIRE_BROWSER is set and %s is missing: run `make deps-debian` (tools/debian/browser.txt): %v", chromium, err)
		}
		t.Skipf("%s is missing (`make deps-debian` installs it; IMBRIDGE_REQUIRE_BROWSER=1 makes this a failure)", chromium)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// What the page logs as an error, and what it throws, shown when the
	// test fails.
	logs := &testlog.Buffer{}
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(func(ev any) {
		switch ev := ev.(type) {
		case *cdpruntime.EventExceptionThrown:
			d := ev.ExceptionDetails
			what := d.Text
			if d.Exception != nil {
				what += " " + d.Exception.Description
			}
			fmt.Fprintf(logs, "page exception at %s:%d: %s\n", d.URL, d.LineNumber, what)
		case *cdpruntime.EventConsoleAPICalled:
			if ev.Type == cdpruntime.ConsoleAPICalledTypeError || ev.Type == cdpruntime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				fmt.Fprintf(logs, "console.%s: %s\n", ev.Type, strings.Join(args, " "))
			}
		}
	}))
	// The first Run starts the browser, which lives as long as ctx: no
	// timeout on it. Each step has its own (page.run).
	if err := chromedp.Do(ctx); err != nil {
		cancel()
		cancelAlloc()
		t.Fatalf("start %s: %v", chromium, err)
	}
	t.Cleanup(func() {
		if t.Failed() && logs.String() != "" {
			t.Logf("the browser said:\n%s", logs.String())
		}
		cancel()
		cancelAlloc()
	})
	return ctx
}

// page is one tab of the browser, with bounded steps that fail the test
// naming what did not happen.
type page struct {
	t   *testing.T
	ctx context.Context
}

// openConsole opens the console at url in a browser of its own, with the
// test's API key saved.
func openConsole(t *testing.T, url string) page {
	t.Helper()
	p := page{t, browser(t)}
	p.run("open the console", chromedp.Navigate(url))
	p.fill("#api-key", testKey)
	p.click("#api-key-save")
	return p
}

func (p page) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	_ = value(p, what, chromedp.Steps(steps...))
}

// value runs one action that returns a value, bounded by browserWait.
func value[T any](p page, what string, a chromedp.Action[T]) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("not within %v", browserWait)
		}
		p.screenshot("failure-" + strings.ReplaceAll(p.t.Name(), "/", "-"))
		p.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitFor waits until an element matching the CSS selector sel is visible.
func (p page) waitFor(what, sel string) {
	p.t.Helper()
	p.run(fmt.Sprintf("%s (%s) did not appear", what, sel), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// until waits until the JavaScript expression is true.
func (p page) until(what, expr string) {
	p.t.Helper()
	p.run(what, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
}

func (p page) text(sel string) string {
	p.t.Helper()
	return value(p, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
}

func (p page) attr(sel, name string) string {
	p.t.Helper()
	return value(p, "read "+sel, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

// fill sets the value of the input sel (chromedp.SetValue refuses "").
func (p page) fill(sel, v string) {
	p.t.Helper()
	p.waitFor("the input", sel)
	q, _ := json.Marshal(sel)
	val, _ := json.Marshal(v)
	p.run("type into "+sel, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](fmt.Sprintf("(document.querySelector(%s).value = %s, true)", q, val))(ctx, t)
		return err
	}))
}

func (p page) click(sel string) {
	p.t.Helper()
	p.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

func (p page) count(sel string) int {
	p.t.Helper()
	return value(p, "count "+sel, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%q).length", sel)))
}

// screenshot writes the page to .build/screenshots/NAME.png at the
// repository's root (not committed).
func (p page) screenshot(name string) {
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", ".build", "screenshots")
	ctx, cancel := context.WithTimeout(p.ctx, browserWait)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err == nil {
		err = os.MkdirAll(dir, 0o755)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
	}
	if err != nil {
		p.t.Logf("screenshot %s: %v", name, err)
	}
}

// The README's quickstart: `make run` (configs/dev.yaml: loopback, no
// key), open http://127.0.0.1:8080/console, `imbridge send chat:txt` (the
// demo app and its secret), and the callback shows in the live view.
func TestConsoleQuickstartInABrowser(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	dev := filepath.Join(filepath.Dir(file), "..", "..", "configs", "dev.yaml")
	cfg, err := config.Load("imbridge", []string{"--config", dev, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0",
		"--data-dir", t.TempDir(), "--log-level", "warn"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatalf("load %s: %v", dev, err)
	}
	r := start(t, cfg)
	p := page{t, browser(t)}
	p.run("open the console", chromedp.Navigate("http://"+r.app.HTTPAddr().String()+"/console"))
	p.waitFor("the live stream, without a key", "#live-state.live")
	// What `imbridge send chat:txt` sends by default.
	body, err := trigger.Build("chat:txt", trigger.Options{Appkey: "demo#imbridge", Secret: "dev-callback-secret", Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	if res := r.post(t, body[0]); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	p.waitFor("the callback sent, in the live view", `#live-rows tr[data-selector="chat:txt"]`)
	if got := p.text(`#live-rows tr[data-selector="chat:txt"] td:nth-child(4)`); got != "demo#imbridge" {
		t.Errorf("the event's app shows %q, want demo#imbridge", got)
	}
}

// Events carry what strangers wrote, and the console shows it as text: a
// message that is HTML runs nothing and makes no element, in the live row
// or in the detail (the signature covers the call id and the timestamp,
// not the text, so the vendor's own callback can carry it).
func TestConsoleShowsWhatStrangersWroteAsText(t *testing.T) {
	r := start(t, ingestConfig(t))
	p := openConsole(t, "http://"+r.app.HTTPAddr().String()+"/console")
	p.waitFor("the live stream", "#live-state.live")

	const text = `<img id=stranger src=x onerror=document.title=1><script>document.title=2</script>`
	quoted, err := json.Marshal(text)
	if err != nil {
		t.Fatal(err)
	}
	body := build(t, "chat:txt", trigger.Options{})[0]
	if !bytes.Contains(body, []byte(`"rr"`)) {
		t.Fatalf("the chat:txt example no longer has its text \"rr\":\n%s", body)
	}
	body = bytes.Replace(body, []byte(`"rr"`), quoted, 1)
	if res := r.post(t, body); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	row := `#live-rows tr[data-selector="chat:txt"]`
	p.waitFor("the callback sent, in the live view", row)
	p.click(row)
	p.waitFor("the event's raw body", "#live-detail pre.raw-body")
	if !strings.Contains(p.text("#live-detail"), text) {
		t.Errorf("the detail does not show the message as written:\n%s", p.text("#live-detail"))
	}
	if n := p.count("#stranger, #live-rows img, #live-detail img, #live-detail script"); n != 0 {
		t.Errorf("the message made %d elements", n)
	}
	if title := value(p, "read the title", chromedp.Evaluate[string]("document.title")); title == "1" || title == "2" {
		t.Errorf("the message's script ran: the title is %q", title)
	}
}

// The console as an operator uses it, against a real imbridge with keys
// and the emulator upstream: log in with the key; a callback sent appears
// live; the filter keeps out what it should; the detail shows the typed
// fields and the raw body; the history lists it and looks it up by call
// id; a chatroom is created, a member added and muted, and the room's
// events arrive live; the glance panel counts the callbacks.
func TestConsoleInABrowser(t *testing.T) {
	r := start(t, ingestConfig(t))
	base := "http://" + r.app.HTTPAddr().String()
	p := page{t, browser(t)}

	p.run("open the console", chromedp.Navigate(base+"/console"))
	// Without a key the API refuses, and the console says so.
	p.waitFor("the refusal of a call without a key", `#live-error .error[data-code="UNAUTHENTICATED"]`)
	p.fill("#api-key", testKey)
	p.click("#api-key-save")
	p.waitFor("the live stream", "#live-state.live")

	// A callback in, an event on the screen.
	body := build(t, "chat:txt", trigger.Options{})[0]
	cb, err := callback.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	if res := r.post(t, body); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	row := `#live-rows tr[data-selector="chat:txt"]`
	p.waitFor("the callback sent, in the live view", row)
	p.screenshot("live")

	// Its detail: the typed fields, and the raw body as received.
	p.click(row)
	p.waitFor("the event's raw body", "#live-detail pre.raw-body")
	if got := p.text(`#live-detail dd[data-field="callId"]`); got != cb.CallID() {
		t.Errorf("detail callId = %q, want %q", got, cb.CallID())
	}
	if got := p.text(`#live-detail dd[data-field="verification"]`); got != "SIGNED" {
		t.Errorf("detail verification = %q, want SIGNED", got)
	}
	if raw := p.text("#live-detail pre.raw-body"); !strings.Contains(raw, cb.CallID()) || !strings.Contains(raw, `"security"`) {
		t.Errorf("detail raw body lacks the call id or the signature:\n%s", raw)
	}
	p.screenshot("detail")

	// A selector filter: a chat:txt sent after it stays out, a muc:kick
	// sent after that comes in.
	p.fill("#live-selectors", "muc")
	p.click("#live-apply")
	p.waitFor("the filtered live stream", "#live-state.live")
	if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	if res := r.post(t, build(t, "muc:kick", trigger.Options{})[0]); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	p.waitFor("muc:kick, through the filter muc", `#live-rows tr[data-selector="muc:kick"]`)
	if n := p.count(row); n != 0 {
		t.Errorf("with the filter muc, the live view shows %d chat:txt events", n)
	}

	// Pause: an event stored meanwhile shows only on resume.
	p.click("#live-pause")
	p.waitFor("the paused state", "#live-state.paused")
	kick := build(t, "muc:kick", trigger.Options{})[0]
	kickCB, _ := callback.Parse(kick)
	if res := r.post(t, kick); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	if n := p.count(`#live-rows tr[data-selector="muc:kick"]`); n != 1 {
		t.Errorf("paused, the live view shows %d muc:kick events, want the 1 from before the pause", n)
	}
	p.click("#live-pause")
	p.until("the event stored while paused did not arrive on resume",
		`document.querySelectorAll('#live-rows tr[data-selector="muc:kick"]').length === 2`)

	// Chatrooms: create one, add a member, mute them.
	p.click("#tab-chatrooms")
	p.fill("#rooms-app", appkey)
	p.fill("#create-name", "ops room")
	p.fill("#create-description", "made in a browser")
	p.fill("#create-owner", "alice")
	p.click("#create-button")
	p.waitFor("the room created", "#room-title")
	room := p.attr("#room-title", "data-room")
	id := room[strings.LastIndex(room, "/")+1:]
	if !strings.HasPrefix(room, appParent+"/chatrooms/") || id == "" {
		t.Fatalf("created room %q", room)
	}
	p.fill("#room-members-add", "bob")
	p.click("#room-members-submit")
	p.waitFor("bob among the members", `#room-members-list li[data-key="bob"]`)
	p.fill("#room-mutes-add", "bob")
	p.click("#room-mutes-submit")
	p.waitFor("bob among the mutes", `#room-mutes-list li[data-key="bob"]`)
	// An error shows as the API returns it.
	p.fill("#room-admins-add", "not a name")
	p.click("#room-admins-submit")
	p.waitFor("the API's error", `#room-admins-error .error[data-code="INVALID_ARGUMENT"]`)
	p.screenshot("chatroom")
	// The announcement, and an attribute set on behalf of the owner.
	p.fill("#room-announcement-text", "maintenance at noon")
	p.click("#room-announcement-save")
	p.waitFor("the announcement saved", "#room-announcement-error .muted")
	p.fill("#room-attributes-user", "alice")
	p.fill("#room-attributes-key", "topic")
	p.fill("#room-attributes-value", "ops")
	p.click("#room-attributes-submit")
	p.waitFor("the attribute set", `#room-attributes-list li[data-key="topic"]`)
	p.click(`#room-attributes-list li[data-key="topic"] button`)
	p.until("the attribute deleted", `!document.querySelector('#room-attributes-list li[data-key="topic"]')`)
	if n := p.count("#room-attributes-error .error"); n != 0 {
		t.Errorf("deleting the attribute: %s", p.text("#room-attributes-error"))
	}
	p.run("scroll to the attributes", chromedp.ScrollIntoView(chromedp.CSS("#room-attributes")))
	p.screenshot("chatroom-more")

	// The room's events arrive live (the filter is still muc).
	p.click("#tab-live")
	for _, sel := range []string{"muc:create", "muc:presence", "muc:add_mute"} {
		p.until("the room's "+sel+" did not arrive live", fmt.Sprintf(
			`[...document.querySelectorAll('#live-rows tr[data-selector=%q]')].some(r => r.textContent.includes(%q))`, sel, id))
	}
	p.screenshot("live-chatroom")

	// A user filter: only what user1 sent.
	p.fill("#live-selectors", "")
	p.fill("#live-sender", "user1")
	p.click("#live-apply")
	p.waitFor("user1's events", row)
	if n := p.count(`#live-rows tr[data-selector^="muc:"]`); n != 0 {
		t.Errorf("with the filter sender=user1, the live view shows %d muc events", n)
	}

	// History: a page at a time, and one event looked up by call id.
	p.click("#tab-history")
	p.waitFor("the history", `#history-rows tr[data-selector="chat:txt"]`)
	total := p.count("#history-rows tr[data-cursor]")
	if total <= 5 {
		t.Fatalf("the history lists %d events, want more than one page of 5", total)
	}
	p.run("choose pages of 5", chromedp.SetValue(chromedp.CSS("#history-page-size"), "5"))
	p.click("#history-list")
	p.until("a first page of 5", `document.querySelectorAll("#history-rows tr[data-cursor]").length === 5`)
	newest := p.attr("#history-rows tr[data-cursor]:last-child", "data-cursor")
	p.click("#history-next")
	p.until("the second page", `document.getElementById("history-page").textContent === "page 2"`)
	if n := p.count("#history-rows tr[data-cursor]"); n != min(total-5, 5) {
		t.Errorf("page 2 lists %d events, want %d", n, min(total-5, 5))
	}
	if first := p.attr("#history-rows tr[data-cursor]", "data-cursor"); len(first) > len(newest) || (len(first) == len(newest) && first >= newest) {
		t.Errorf("page 2 starts at cursor %s, want one older than page 1's last, %s", first, newest)
	}
	p.fill("#history-lookup", kickCB.CallID())
	p.click("#history-get-button")
	p.waitFor("the event looked up by call id", "#history-detail pre.raw-body")
	if got := p.text(`#history-detail dd[data-field="callId"]`); got != kickCB.CallID() {
		t.Errorf("history lookup shows callId %q, want %q", got, kickCB.CallID())
	}
	p.screenshot("history")
	p.fill("#history-lookup", "999999")
	p.click("#history-get-button")
	p.waitFor("the API's error for a cursor that is not there", `#history-error .error[data-reason="EVENT_NOT_FOUND"]`)

	// At a glance, from StatusService: callbacks by family with their rate
	// (from two reads), refusals by reason, the console's own stream.
	bad := build(t, "chat:txt", trigger.Options{Appkey: appkey, Secret: "not-the-secret"})[0]
	if res := r.post(t, bad); res.code != http.StatusUnauthorized {
		t.Fatalf("POST a callback signed with another secret: %d %s, want 401", res.code, res.body)
	}
	p.click("#tab-glance")
	p.waitFor("chat among the callbacks by family", `#glance-callbacks tr[data-key="chat"]`)
	p.waitFor("bad_signature among the refusals", `#glance-refusals tr[data-key="bad_signature"]`)
	p.waitFor("the console's own stream", `#glance-streams tr[data-key="orgs/-/apps/-"]`)
	p.until("a rate of chat callbacks", `/^\d+\.\d$/.test(document.querySelector('#glance-callbacks tr[data-key="chat"] td:nth-child(2)').textContent)`)
	p.screenshot("glance")
}

// A page of another origin may call the API when that origin is
// configured (cors_allowed_origins), and its browser keeps the answer from
// it otherwise; the console itself needs none of this (same origin).
// A stream refused before its first message answers {"error": status}, as
// its last line would: the console shows that status. Here imbridge comes
// back on a new log (its data_dir wiped), and the console's resume, with
// the old log's epoch, is refused with EPOCH_MISMATCH.
func TestConsoleShowsAStreamRefusedAtItsStart(t *testing.T) {
	cfg := ingestConfig(t)
	r := start(t, cfg)
	cfg.HTTPAddr = r.app.HTTPAddr().String() // the page's origin, kept across the restart
	p := openConsole(t, "http://"+cfg.HTTPAddr+"/console")
	if res := r.post(t, build(t, "chat:txt", trigger.Options{})[0]); res.code != http.StatusOK {
		t.Fatalf("POST callback: %d %s", res.code, res.body)
	}
	p.waitFor("the callback sent, in the live view", `#live-rows tr[data-selector="chat:txt"]`)

	r.stop()
	if err := os.RemoveAll(cfg.DataDir); err != nil {
		t.Fatal(err)
	}
	start(t, cfg)
	p.waitFor("the refusal of the resume", `#live-error .error[data-code="FAILED_PRECONDITION"]`)
	if got := p.text("#live-error"); !strings.Contains(got, "EPOCH_MISMATCH") {
		t.Errorf("the live view's error reads %q, want the reason EPOCH_MISMATCH", got)
	}
}

func TestConsoleCORSInABrowser(t *testing.T) {
	// Two pages, on two origins; only the first is allowed.
	var api atomic.Value // imbridge's origin, known once it started
	pageHandler := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>other origin</title><pre id="out">calling</pre><script>
fetch(%q, {headers: {Authorization: "Bearer %s"}})
  .then(r => r.text().then(t => { document.getElementById("out").textContent = "answered " + r.status + " " + t; }))
  .catch(e => { document.getElementById("out").textContent = "blocked " + e.name; });
</script>`, api.Load().(string)+"/v1/orgs/-/apps/-/events", testKey)
	})
	allowed := httptest.NewServer(pageHandler)
	defer allowed.Close()
	other := httptest.NewServer(pageHandler)
	defer other.Close()

	cfg := testConfig(t)
	cfg.CORSAllowedOrigins = []string{allowed.URL}
	r := start(t, cfg)
	base := "http://" + r.app.HTTPAddr().String()
	api.Store(base)
	p := page{t, browser(t)}

	for _, c := range []struct {
		name, url, want string
	}{
		{"configured origin", allowed.URL, `answered 200 {"events":[]}`},
		{"other origin", other.URL, "blocked TypeError"},
	} {
		p.run("open the page of the "+c.name, chromedp.Navigate(c.url))
		p.until("the page of the "+c.name+" got no result", `!document.getElementById("out").textContent.startsWith("calling")`)
		if got := p.text("#out"); got != c.want {
			t.Errorf("%s: the page sees %q, want %q", c.name, got, c.want)
		}
	}
	// The console, same origin, needs no CORS.
	p.run("open the console", chromedp.Navigate(base+"/console"))
	p.fill("#api-key", testKey)
	p.click("#api-key-save")
	p.waitFor("the console's live stream", "#live-state.live")
}
