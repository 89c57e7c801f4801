package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestValidateAllAtOnce: plugin load failures come in the same run as the
// config's errors, in source order, each at its source attribute; a plugin
// block with an error of its own is not loaded (its error is enough).
func TestValidateAllAtOnce(t *testing.T) {
	dir := t.TempDir()
	cfg := `plugin "missing" {
  source = "nope.wasm"
}

plugin "broken" {
  source = "also-missing.wasm"
  memory = "lots"
}

route "send" {
  schema {
    field "roomId" {
      type = "string"
    }
  }
  plugins = [plugin.missing, plugin.nope]
  deliver {
    to   = "room"
    room = msg.roomid
  }
}

route "send" {
  deliver {
    to = "sender"
  }
}
`
	path := filepath.Join(dir, "all.hcl")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := switchboard(t, dir, nil, "validate", "-c", "all.hcl")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^all\.hcl:(\d+,\d+-\d+): ([^;]+);`).FindAllStringSubmatch(errOut, -1) {
		got = append(got, m[1]+" "+m[2])
	}
	want := []string{
		"2,12-23 Plugin does not load",
		"7,12-18 Invalid size",
		"16,30-41 Unknown plugin",
		"19,12-22 Undeclared field",
		"23,7-13 Duplicate route",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s\nfull output:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), errOut)
	}
	for _, s := range []string{"first declared at all.hcl:10", `Did you mean "roomId"?`, `source = "nope.wasm"`} {
		if !strings.Contains(errOut, s) {
			t.Errorf("output lacks %q:\n%s", s, errOut)
		}
	}
}
