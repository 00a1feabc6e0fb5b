package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sluicedb/sluice/sinks/audit"
	"github.com/sluicedb/sluice/sinks/sinktest"
)

func TestAuditVerify(t *testing.T) {
	s, err := audit.New(audit.Options{Dir: t.TempDir(), Table: sinktest.Table})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, sinktest.Records(5, time.Unix(1_800_000_000, 0))); err != nil {
		t.Fatal(err)
	}
	s.Close(ctx)
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "verify", s.Path()}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "5 lines") {
		t.Fatalf("verify of an intact log: %d, %q %q", code, out.String(), errOut.String())
	}
	b, _ := os.ReadFile(s.Path())
	lines := strings.SplitAfter(string(b), "\n")
	lines[1], lines[2] = lines[2], lines[1]
	os.WriteFile(s.Path(), []byte(strings.Join(lines, "")), 0o640)
	out.Reset()
	errOut.Reset()
	if code := run([]string{"audit", "verify", s.Path()}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "line 2:") {
		t.Fatalf("verify of a reordered log: %d, %q %q", code, out.String(), errOut.String())
	}
	if code := run([]string{"audit", "check"}, &out, &errOut); code != 2 {
		t.Errorf("usage error: exit %d", code)
	}
}
