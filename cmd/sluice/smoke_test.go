package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/sluicedb/sluice/test/sluicetest"
)

// Bounds for the end-to-end tests. They are generous because the tests share
// two cores with builds; the ready line usually comes within milliseconds.
const (
	readyTimeout = 10 * time.Second
	exitTimeout  = 15 * time.Second
)

func TestMain(m *testing.M) { os.Exit(sluicetest.Main(m)) }

// buildSluice builds this command once per test run (test/sluicetest).
func buildSluice(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	return sluicetest.Build(t)
}

// process is a running sluice command.
type process struct {
	cmd    *exec.Cmd
	lines  chan string // standard output, line by line
	banner chan string // the first line of standard error
	stderr lockedBuffer
	done   chan struct{}
	err    error // from Wait, set before done closes
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// startSluice runs `sluice args...` until the test ends.
func startSluice(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{
		cmd:    exec.Command(buildSluice(t), args...),
		lines:  make(chan string, 64),
		banner: make(chan string, 1),
		done:   make(chan struct{}),
	}
	// A clean environment, so a developer's SLUICE_* settings do not leak in.
	p.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var stderrRead sync.WaitGroup
	stderrRead.Go(func() {
		sc := bufio.NewScanner(stderr)
		first := true
		for sc.Scan() {
			fmt.Fprintln(&p.stderr, sc.Text())
			if first {
				p.banner <- sc.Text()
				first = false
			}
		}
		close(p.banner)
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 8<<20)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		stderrRead.Wait() // Wait closes the pipes: read them out first
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("sluice %s stderr:\n%s", strings.Join(args, " "), p.stderr.String())
		}
	})
	return p
}

// ready waits for the ready line and returns it.
func (p *process) ready(t *testing.T) string {
	t.Helper()
	timer := time.NewTimer(readyTimeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				<-p.done
				t.Fatalf("sluice exited before it was ready: %v\n%s", p.err, p.stderr.String())
			}
			if strings.HasPrefix(line, "sluice ready: ") {
				return line
			}
		case <-timer.C:
			t.Fatalf("no ready line within %s", readyTimeout)
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *process) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(exitTimeout):
		t.Fatalf("sluice did not exit within %s", exitTimeout)
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatal(p.err)
	}
	return 0
}

// lastLine is the last non-empty line of standard error.
func (p *process) lastLine() string {
	lines := strings.Split(strings.TrimSpace(p.stderr.String()), "\n")
	return lines[len(lines)-1]
}

var readyRE = regexp.MustCompile(`^sluice ready: DynamoDB API on (http://\S+), NATS on (nats://\S+), data in (.+) \((fsync|relaxed) durability\)$`)

// TestServe runs the binary end to end: health check, CreateTable, PutItem
// and GetItem through the AWS SDK, the change on JetStream, then SIGTERM.
func TestServe(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	buildSluice(t) // not part of the start-up time logged below
	start := time.Now()
	p := startSluice(t, "serve", "--listen", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0", "--data", data)
	line := p.ready(t)
	t.Logf("%s (after %s)", line, time.Since(start).Round(time.Millisecond))
	m := readyRE.FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("ready line %q does not match %s", line, readyRE)
	}
	endpoint, natsURL := m[1], m[2]
	if m[3] != data || m[4] != "fsync" {
		t.Errorf("ready line names data %q, %s durability; want %q, fsync", m[3], m[4], data)
	}

	resp, err := http.Get(endpoint + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(string(body), "healthy: ") {
		t.Errorf("GET / = %d %q, want 200 \"healthy: ...\"", resp.StatusCode, body)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("x", "x", ""),
	})
	if _, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String("smoke"),
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		BillingMode:          types.BillingModePayPerRequest,
	}); err != nil {
		t.Fatalf("CreateTable: %v", err)
	}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String("smoke"),
		Item: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "a"},
			"n":  &types.AttributeValueMemberN{Value: "1.50"},
		},
	}); err != nil {
		t.Fatalf("PutItem: %v", err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String("smoke"),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "a"}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("GetItem: %v", err)
	}
	if pk, ok := got.Item["pk"].(*types.AttributeValueMemberS); !ok || pk.Value != "a" {
		t.Errorf("GetItem pk = %#v, want S a", got.Item["pk"])
	}
	if n, ok := got.Item["n"].(*types.AttributeValueMemberN); !ok || n.Value != "1.5" {
		t.Errorf("GetItem n = %#v, want N 1.5 (canonical)", got.Item["n"])
	}

	// The put is one record on the table's stream.
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatalf("connecting to %s: %v", natsURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if err := waitFor(ctx, func() (bool, error) {
		lister := js.StreamNames(ctx)
		var names []string
		for name := range lister.Name() {
			names = append(names, name)
		}
		if err := lister.Err(); err != nil {
			return false, err
		}
		for _, name := range names {
			if !strings.HasPrefix(name, "sluice-t-") {
				continue
			}
			s, err := js.Stream(ctx, name)
			if err != nil {
				return false, err
			}
			info, err := s.Info(ctx)
			if err != nil {
				return false, err
			}
			return info.State.Msgs == 1, nil
		}
		return false, nil
	}); err != nil {
		t.Errorf("waiting for the put's record on JetStream: %v", err)
	}
	nc.Close()

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Errorf("exit code after SIGTERM = %d, want 0", code)
	}
}

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, cond func() (bool, error)) error {
	var last error
	for {
		ok, err := cond()
		if ok {
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// TestServeTwice checks that a second server on the same data directory
// fails clearly instead of sharing the store.
func TestServeTwice(t *testing.T) {
	data := t.TempDir()
	first := startSluice(t, "serve", "--listen", "127.0.0.1:0", "--nats-listen=", "--data", data)
	first.ready(t)

	second := startSluice(t, "serve", "--listen", "127.0.0.1:0", "--nats-listen=", "--data", data)
	if code := second.wait(t); code != 1 {
		t.Errorf("second server: exit code %d, want 1", code)
	}
	if got := second.lastLine(); !strings.Contains(got, "in use by another sluice process") {
		t.Errorf("second server's error = %q, want it to say the data directory is in use", got)
	}

	first.cmd.Process.Signal(syscall.SIGINT)
	if code := first.wait(t); code != 0 {
		t.Errorf("first server: exit code after SIGINT = %d, want 0", code)
	}
}

// TestServePortInUse checks that an address in use is one clear line and
// exit code 1, for the API and for the NATS listener.
func TestServePortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"api", []string{"--listen", busy, "--nats-listen="}, "listening on " + busy + " (--listen)"},
		{"nats", []string{"--listen", "127.0.0.1:0", "--nats-listen", busy}, "NATS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"serve", "--data", t.TempDir()}, tc.args...)
			p := startSluice(t, args...)
			if code := p.wait(t); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			got := p.lastLine()
			if !strings.HasPrefix(got, "sluice: ") || !strings.Contains(got, tc.want) || !strings.Contains(got, "address already in use") {
				t.Errorf("last line of stderr = %q; want \"sluice: ...%s...address already in use\"", got, tc.want)
			}
		})
	}
}

// TestCommands checks the small subcommands and their exit codes.
func TestCommands(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string // substring
	}{
		{[]string{"version"}, 0, "sluice "},
		{[]string{"help"}, 0, "sluice serve"},
		{[]string{"help", "serve"}, 0, "SLUICE_NATS_LISTEN"},
		{[]string{"serve", "-h"}, 0, ""},
		{[]string{}, 2, ""},
		{[]string{"frobnicate"}, 2, ""},
		{[]string{"serve", "--durability", "sometimes"}, 2, ""},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(tc.args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tc.stdout)
			}
		})
	}
}
