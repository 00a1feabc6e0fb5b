//go:build !invariants

// Package invariants switches expensive consistency checks on with the
// "invariants" build tag (go test -tags invariants ./...). A failed check is a
// bug and panics; it is never a client error.
package invariants

// Enabled reports whether the invariants build tag is set.
const Enabled = false
