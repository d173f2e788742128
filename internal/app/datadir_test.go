package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	imbridgev1 "github.com/imbridge/imbridge/gen/go/imbridge/v1"
	"github.com/imbridge/imbridge/internal/app"
	"github.com/imbridge/imbridge/internal/callback"
	"github.com/imbridge/imbridge/internal/config"
	"github.com/imbridge/imbridge/internal/datadir"
	"github.com/imbridge/imbridge/internal/trigger"
)

func newApp(cfg config.Config) (*app.App, error) {
	return app.New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

// postStored posts one signed chat:txt callback and returns its callId and
// the cursor it was stored at.
func postStored(t *testing.T, r *running) (string, uint64) {
	t.Helper()
	body := build(t, "chat:txt", trigger.Options{})[0]
	res := r.post(t, body)
	var out struct{ Result, Cursor string }
	if err := json.Unmarshal([]byte(res.body), &out); res.code != http.StatusOK || err != nil || out.Result != "stored" {
		t.Fatalf("POST = %d %s, want 200 stored", res.code, res.body)
	}
	cursor, err := strconv.ParseUint(out.Cursor, 10, 64)
	if err != nil {
		t.Fatalf("POST answered cursor %q: %v", out.Cursor, err)
	}
	cb, err := callback.Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	return cb.CallID(), cursor
}

// A second process on the same data_dir is refused, naming the holder,
// and leaves the first serving; once the first stops, the next one opens
// the same store and finds what the first acknowledged.
func TestSecondAppOnSameDataDirIsRefused(t *testing.T) {
	cfg := ingestConfig(t)
	first := start(t, cfg)
	callID, cursor := postStored(t, first)

	second := cfg // same data_dir; testConfig's ":0" gives other ports
	_, err := newApp(second)
	if err == nil {
		t.Fatalf("a second app.New on data_dir %q succeeded, want a refusal", cfg.DataDir)
	}
	var inUse *datadir.InUseError
	if !errors.As(err, &inUse) || inUse.Holder == nil || inUse.Holder.PID != os.Getpid() {
		t.Errorf("second app.New = %v, want a data_dir in use error naming pid %d", err, os.Getpid())
	}
	for _, want := range []string{
		fmt.Sprintf("data_dir %q is in use by another imbridge (pid %d on host ", cfg.DataDir, os.Getpid()),
		"stop it or choose another data_dir",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "not ready") {
		t.Errorf("error %q comes from the NATS start timeout, want the lock's", err)
	}

	// The refused New left the first one as it was: still serving, still
	// holding the directory.
	callID2, cursor2 := postStored(t, first)
	if cursor2 <= cursor {
		t.Errorf("first app: cursor %d after %d, want it to grow", cursor2, cursor)
	}
	if _, err := newApp(second); !errors.As(err, &inUse) {
		t.Errorf("third app.New while the first runs = %v, want data_dir in use", err)
	}

	first.stop()
	next := start(t, second)
	for id, want := range map[string]uint64{callID: cursor, callID2: cursor2} {
		resp, err := imbridgev1.NewEventServiceClient(next.conn).GetEvent(withKey(ctxT(t), testKey), &imbridgev1.GetEventRequest{CallId: id})
		if err != nil || resp.GetEvent().GetCursor() != want {
			t.Errorf("after restart: GetEvent(%q) = cursor %d, %v; want cursor %d", id, resp.GetEvent().GetCursor(), err, want)
		}
	}
	if _, c := postStored(t, next); c <= cursor2 {
		t.Errorf("after restart: new callback stored at cursor %d, want after %d", c, cursor2)
	}
}

// A data_dir that cannot be used fails New at once with the real cause,
// naming the path, rather than as an embedded server that never gets ready.
func TestBadDataDirFailsAtOnce(t *testing.T) {
	file := filepath.Join(t.TempDir(), "data")
	if err := os.WriteFile(file, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, dir, want string }{
		{"regular file", file, fmt.Sprintf("data_dir %q: not a directory", file)},
		{"under a regular file", filepath.Join(file, "jetstream"), fmt.Sprintf("data_dir %q: %q is not a directory", filepath.Join(file, "jetstream"), file)},
	} {
		cfg := testConfig(t)
		cfg.DataDir = c.dir
		_, err := newApp(cfg)
		if err == nil {
			t.Fatalf("%s: app.New(data_dir %q) succeeded", c.name, c.dir)
		}
		// By structure, not by clock: the error is the data_dir check's own,
		// which comes before the listeners and the event log are opened.
		if err.Error() != c.want {
			t.Errorf("%s: app.New = %q, want %q", c.name, err, c.want)
		}
	}
}
