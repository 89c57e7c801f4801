package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func version(args []string, stdout, stderr io.Writer) int {
	fl := newFlagSet("version", "", "Print the module version, the VCS revision it was built from (+dirty when\nthe tree had uncommitted changes) and the Go version.", stderr)
	if code, done := parseFlags(fl, args, stdout, stderr); done {
		return code
	}
	bi, _ := debug.ReadBuildInfo()
	fmt.Fprint(stdout, versionText(bi))
	return 0
}

// versionText says what the binary was built from, as debug.ReadBuildInfo
// gives it (nil when it has none):
//
//	switchboard (devel)
//	revision 2214df3f...+dirty (2026-11-29T12:00:00Z)
//	go1.26.8 linux/amd64
//
// The module version is "(devel)" or a pseudo-version when built from a
// checkout; the revision is "unknown" without VCS stamping (-buildvcs=false,
// or a git worktree, which go build does not stamp) and gets "+dirty" when
// the tree had uncommitted changes.
func versionText(bi *debug.BuildInfo) string {
	v, rev, at, goVersion := "unknown", "unknown", "", runtime.Version()
	if bi != nil {
		v, goVersion = bi.Main.Version, bi.GoVersion
		dirty := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				at = " (" + s.Value + ")"
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if dirty {
			rev += "+dirty"
		}
	}
	return fmt.Sprintf("switchboard %s\nrevision %s%s\n%s %s/%s\n", v, rev, at, goVersion, runtime.GOOS, runtime.GOARCH)
}
