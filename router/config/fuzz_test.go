package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse feeds arbitrary bytes to Parse, which must never panic: configs
// come from users, and `switchboard validate` runs on anything.
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.hcl", "testdata/invalid/*.hcl", "../../router.hcl"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			src, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(src)
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse(src, "fuzz.hcl")
		if (c == nil) == (err == nil) {
			t.Fatalf("Parse returned config %v and error %v: want exactly one", c, err)
		}
		if err != nil {
			_ = err.Error()
			return
		}
		if err := c.Check(); err != nil {
			t.Fatalf("a config that Parse accepted fails Check: %v", err)
		}
		for _, r := range c.Routes {
			_ = r.Room.String()
			if r.Deliver != nil {
				_ = r.Deliver.Room.String()
				_ = r.Deliver.User.String()
			}
		}
	})
}
