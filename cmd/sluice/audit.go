package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/sluicedb/sluice/sinks/audit"
)

func auditUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: sluice audit verify FILE

Checks an audit sink's log (<path>/<table>.jsonl): every line must hold the
SHA-256 of the line before it, and the log must end where its .head file
says. Prints the number of lines and exits 0, or names the first line that
was altered, removed, inserted or moved and exits 1.
`)
}

// auditCommand runs `sluice audit`.
func auditCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "verify" {
		auditUsage(stderr)
		return 2
	}
	n, err := audit.Verify(args[1])
	var ve *audit.VerifyError
	switch {
	case errors.As(err, &ve):
		fmt.Fprintf(stderr, "sluice audit verify: %s: %v\n", args[1], ve)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "sluice audit verify: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "%s: %d lines, chain intact\n", args[1], n)
	return 0
}
