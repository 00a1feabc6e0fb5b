//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
)

// A binary built with -tags pprof serves the Go profiler on $SLUICE_PPROF
// (e.g. 127.0.0.1:6060); release builds carry none of it.
func init() {
	if addr := os.Getenv("SLUICE_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
