// Package wasmbuild builds the WebAssembly modules tests need from source:
// Go plugins with `go build -buildmode=c-shared` for wasip1, WAT files with
// wat2wasm (Debian package wabt). Results are cached by a content hash of
// the sources, so a test suite pays for each build once. Committed .wasm
// files are never used: see docs/RATIONALE.md, "Test plugins are built from
// source".
package wasmbuild

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Dir is where built modules are cached: $SWITCHBOARD_WASM_CACHE, else
// os.UserCacheDir()/switchboard/wasmbuild, else a directory under os.TempDir.
func Dir() string {
	if d := os.Getenv("SWITCHBOARD_WASM_CACHE"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "switchboard", "wasmbuild")
	}
	return filepath.Join(os.TempDir(), "switchboard-wasmbuild")
}

// Build builds src and returns the path of the .wasm: a .wat file, or a
// directory holding a Go plugin's main package. It fails tb on error.
func Build(tb testing.TB, src string) string {
	tb.Helper()
	var path string
	var err error
	if strings.HasSuffix(src, ".wat") {
		path, err = WAT(src)
	} else {
		path, err = Go(src)
	}
	if err != nil {
		tb.Fatal(err)
	}
	return path
}

// One build per output at a time within a process (tests in parallel).
var mu sync.Mutex

// WAT compiles a WebAssembly text file with wat2wasm.
func WAT(file string) (string, error) {
	tool, err := exec.LookPath("wat2wasm")
	if err != nil {
		return "", errors.New("wat2wasm not found: the tests build WAT plugins with it; install it with `apt-get install wabt`")
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "wat\x00%s\x00", tool)
	h.Write(src)
	return cached(h, filepath.Base(file), func(out string) error {
		return run(exec.Command(tool, "-o", out, file))
	})
}

// Go builds a Go plugin (a main package) for GOOS=wasip1 GOARCH=wasm as a
// reactor (-buildmode=c-shared). The hash covers every Go file of every
// package of this module it depends on (as `go list -deps` reports), go.mod,
// go.sum and the Go version.
func Go(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	list := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{.Dir}}{{range .GoFiles}} {{.}}{{end}}{{range .EmbedFiles}} {{.}}{{end}}{{end}}`, ".")
	list.Dir = dir
	list.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	var stdout bytes.Buffer
	list.Stdout = &stdout
	if err := run(list); err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "go\x00%s\x00%s\x00", runtime.Version(), os.Getenv("GOFLAGS"))
	var root string
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if root == "" {
			root = findModuleRoot(f[0])
		}
		for _, name := range f[1:] {
			if err := hashFile(h, filepath.Join(f[0], name)); err != nil {
				return "", err
			}
		}
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		if err := hashFile(h, filepath.Join(root, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
	}
	return cached(h, filepath.Base(dir), func(out string) error {
		build := exec.Command("go", "build", "-buildmode=c-shared", "-o", out, ".")
		build.Dir = dir
		build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
		return run(build)
	})
}

func findModuleRoot(dir string) string {
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

func hashFile(h io.Writer, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
	h.Write(b)
	return nil
}

// cached returns the cached output for the hash, building it when missing.
// Builds write a temporary file and rename it, so concurrent builds (other
// test binaries) never see half a module.
func cached(h interface{ Sum([]byte) []byte }, name string, build func(out string) error) (string, error) {
	dir := Dir()
	sum := hex.EncodeToString(h.Sum(nil))[:24]
	path := filepath.Join(dir, name+"-"+sum+".wasm")
	mu.Lock()
	defer mu.Unlock()
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, name+"-*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	if err := build(tmp.Name()); err != nil {
		return "", err
	}
	return path, os.Rename(tmp.Name(), path)
}

func run(cmd *exec.Cmd) error {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, stderr.String())
	}
	return nil
}
