package main

import (
	"runtime"
	"runtime/debug"
)

// version is set at build time by the Makefile:
// -ldflags "-X main.version=v0.1.0".
var version = "dev"

// versionString is "sluice <version> (<revision>, <go version>)"; the
// revision comes from the VCS stamp go build embeds, when there is one.
func versionString() string {
	s := "sluice " + version
	rev, dirty := "", false
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, kv := range bi.Settings {
			switch kv.Key {
			case "vcs.revision":
				rev = kv.Value
			case "vcs.modified":
				dirty = kv.Value == "true"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	if rev != "" {
		return s + " (" + rev + ", " + runtime.Version() + ")"
	}
	return s + " (" + runtime.Version() + ")"
}
