package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imbridge/imbridge/internal/trigger"
)

// requireNode is set by CI (.ci/run), where the pinned npm packages are
// installed: there a missing Node toolchain fails the test instead of
// skipping it.
const requireNode = "IMBRIDGE_REQUIRE_NODE"

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// The TypeScript client example (clients/ts/example.ts), built with the
// pinned compiler against the package @imbridge/api (gen/ts, built here by
// its own build as make ts-package runs it, and linked into node_modules as
// npm installs it), lists events, follows the stream and creates a chatroom
// against a live imbridge: a broken contract, generator or package fails
// here.
func TestTypeScriptClientExample(t *testing.T) {
	root := repoRoot(t)
	tsc := filepath.Join(root, "node_modules", ".bin", "tsc")
	node, err := exec.LookPath("node")
	_, statErr := os.Stat(filepath.Join(root, "node_modules", "@connectrpc", "connect-node"))
	if statErr == nil {
		_, statErr = os.Stat(filepath.Join(root, "node_modules", "@imbridge", "api", "package.json"))
	}
	if err != nil || statErr != nil {
		if os.Getenv(requireNode) != "" {
			t.Fatalf("node (%v) or the npm packages (%v) are missing: run make tools", err, statErr)
		}
		t.Skip("node or the pinned npm packages are missing (make tools installs them)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if b, err := exec.CommandContext(ctx, tsc, "-p", filepath.Join(root, "gen", "ts", "tsconfig.json")).CombinedOutput(); err != nil {
		t.Fatalf("building @imbridge/api: tsc: %v\n%s", err, b)
	}
	out := t.TempDir()
	if b, err := exec.CommandContext(ctx, tsc, "-p", filepath.Join(root, "clients", "ts", "tsconfig.json"), "--outDir", out).CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, b)
	}

	checkClientExample(t, "from TypeScript", func(addr, appkey string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, node, filepath.Join(out, "example.js"), addr, appkey, "2")
		cmd.Env = append(os.Environ(), "NODE_PATH="+filepath.Join(root, "node_modules"))
		return cmd
	})
}

// checkClientExample runs a client example (the command example returns,
// for imbridge's gRPC address and the app, with the API key added to its
// environment) against a live imbridge holding a chat:txt and a muc:kick
// event: the example must list both, stream both and create a chatroom
// whose display name is room.
func checkClientExample(t *testing.T, room string, example func(addr, appkey string) *exec.Cmd) {
	t.Helper()
	r := start(t, ingestConfig(t))
	var sent []string
	for _, sel := range []string{"chat:txt", "muc:kick"} {
		body := build(t, sel, trigger.Options{})[0]
		r.post(t, body)
		sent = append(sent, callIDOf(t, body))
	}
	cmd := example(r.app.GRPCAddr().String(), appkey)
	cmd.Env = append(cmd.Env, "IMBRIDGE_API_KEY="+testKey)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("example: %v\n%s", err, b)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 4 || lines[0] != "listed 2 muc:kick,chat:txt" ||
		!strings.HasPrefix(lines[1], "event 1 chat:txt "+sent[0]+" epoch=") || !strings.HasPrefix(lines[2], "event 2 muc:kick "+sent[1]+" epoch=") ||
		!strings.HasPrefix(lines[3], "created "+appParent+"/chatrooms/") {
		t.Fatalf("example printed:\n%s", b)
	}
	name := strings.TrimPrefix(lines[3], "created ")
	res := httpGet(t, "http://"+r.app.HTTPAddr().String()+"/v1/"+name, testKey)
	if res.code != 200 || !strings.Contains(res.body, room) {
		t.Errorf("the room the example created: %d %s", res.code, res.body)
	}
}
