package replication

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sluicedb/sluice/test/sluicetest"
)

// startDynamoDBLocal runs DynamoDB Local in memory through
// test/difftest/ddblocal.sh on a free port, stopped when t ends, and
// returns its URL. It skips t when java or npm is missing.
func startDynamoDBLocal(t *testing.T) string {
	t.Helper()
	script, err := filepath.Abs(filepath.Join("..", "difftest", "ddblocal.sh"))
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	install := exec.Command("bash", script, "install")
	install.Stderr = &stderr
	if _, err := install.Output(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 2 {
			t.Skipf("DynamoDB Local is not available: %s", strings.TrimSpace(stderr.String()))
		}
		t.Fatalf("%s install: %v\n%s", script, err, stderr.String())
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("DynamoDB Local needs java")
	}
	port := sluicetest.FreePort(t)
	var out syncBuffer
	cmd := exec.Command("bash", script, "start", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // so that stopping reaches the JVM
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("DynamoDB Local output:\n%s", out.String())
		}
	})
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(time.Minute)
	for {
		st, _, _ := rawListTables(url)
		if st == http.StatusOK {
			return url
		}
		select {
		case <-exited:
			t.Fatalf("DynamoDB Local exited before it answered\n%s", out.String())
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("DynamoDB Local did not answer\n%s", out.String())
		}
	}
}

// rawListTables sends ListTables as sluicetest.RawRequest does, without
// failing on a connection error.
func rawListTables(url string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader("{}"))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.ListTables")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+sluicetest.AccessKeyID+
		"/20260101/"+sluicetest.Region+"/dynamodb/aws4_request, SignedHeaders=host, Signature=0")
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Status, nil
}

// syncBuffer is a bytes.Buffer safe for a process's writers and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
