package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// requirePython is set by CI (.ci/run), where make deps-debian installs the
// Debian packages of tools/debian/python.txt: there a missing one fails the
// test instead of skipping it.
const requirePython = "IMBRIDGE_REQUIRE_PYTHON"

// debianPython is Debian's own interpreter, the only one that sees Debian's
// python3-grpcio, python3-protobuf, setuptools and mypy; python3 on PATH may
// be another (pyenv's, a venv's).
const debianPython = "/usr/bin/python3"

// The Python client example (clients/python/example.py), with the package
// generated in gen/python installed offline into a fresh venv over Debian's
// grpcio and protobuf, type-checks (mypy, strict), lists events, follows the
// stream and creates a chatroom against a live imbridge: a broken contract,
// generator or package fails here.
func TestPythonClientExample(t *testing.T) {
	root := repoRoot(t)
	probe := exec.Command(debianPython, "-c", "import ensurepip, grpc, google.protobuf, setuptools, wheel, mypy")
	if b, err := probe.CombinedOutput(); err != nil {
		if os.Getenv(requirePython) != "" {
			t.Fatalf("%s or the Debian packages of tools/debian/python.txt are missing (run make deps-debian as root): %v\n%s", debianPython, err, b)
		}
		t.Skip("Debian's python3 or its packages in tools/debian/python.txt are missing (make deps-debian installs them)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	// -I: only the venv's and Debian's packages, whatever PYTHONPATH or the
	// user's site-packages hold.
	python := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, filepath.Join(tmp, "venv", "bin", "python"), append([]string{"-I"}, args...)...)
		cmd.Dir = tmp
		cmd.Env = append(os.Environ(), "PIP_DISABLE_PIP_VERSION_CHECK=1", "PIP_NO_CACHE_DIR=1")
		return cmd
	}
	// The package is built from a copy: setuptools writes build/ and
	// *.egg-info into the tree it builds.
	src := filepath.Join(tmp, "src")
	if err := os.CopyFS(src, os.DirFS(filepath.Join(root, "gen", "python"))); err != nil {
		t.Fatal(err)
	}
	steps := []*exec.Cmd{
		exec.CommandContext(ctx, debianPython, "-I", "-m", "venv", "--system-site-packages", filepath.Join(tmp, "venv")),
		python("-m", "pip", "install", "--quiet", "--no-index", "--no-build-isolation", src),
		python("-m", "mypy", "--config-file", filepath.Join(root, "clients", "python", "mypy.ini"),
			"--cache-dir", filepath.Join(tmp, "mypy"), filepath.Join(root, "clients", "python", "example.py")),
	}
	for _, cmd := range steps {
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
		}
	}

	checkClientExample(t, "from Python", func(addr, appkey string) *exec.Cmd {
		return python(filepath.Join(root, "clients", "python", "example.py"), addr, appkey, "2")
	})
}
