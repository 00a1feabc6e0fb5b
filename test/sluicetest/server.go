package sluicetest

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
)

// Credentials every client of a test server signs with. The access key id is
// what change records carry in ce-accesskeyid.
const (
	AccessKeyID     = "AKIDTEST"
	SecretAccessKey = "secret"
	Region          = "us-east-1"
)

// Bounds on waiting for the server.
const (
	readyTimeout = 10 * time.Second // from start to GET / answering
	stopTimeout  = 20 * time.Second // from SIGTERM to exit, before SIGKILL
)

var build struct {
	once sync.Once
	dir  string // temporary directory holding the binary; removed by Main
	path string
	err  error
}

// Main runs the tests of a package and then removes the binary Build made.
// Call it from TestMain: os.Exit(sluicetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	return code
}

// Build builds cmd/sluice once per test process and returns the binary's
// path. A build failure fails t (and every later caller) with the compiler's
// output.
func Build(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		if p := os.Getenv("SLUICE_BIN"); p != "" {
			build.path = p
			return
		}
		root, err := moduleRoot()
		if err != nil {
			build.err = err
			return
		}
		build.dir, err = os.MkdirTemp("", "sluicetest-bin-")
		if err != nil {
			build.err = err
			return
		}
		out := filepath.Join(build.dir, "sluice")
		cmd := exec.Command("go", "build", "-o", out, "github.com/sluicedb/sluice/cmd/sluice")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("building cmd/sluice: %v\n%s", err, b)
			return
		}
		build.path = out
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// moduleRoot walks up from the working directory to the directory holding
// go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sluicetest: no go.mod above the working directory")
		}
		dir = parent
	}
}

// Options configure Start. The zero value starts a server on a fresh data
// directory.
type Options struct {
	DataDir   string   // data directory; "" means a new t.TempDir()
	ExtraArgs []string // appended to `sluice serve ...`
	Env       []string // "KEY=value" added to the environment
}

// Server is a running (or stopped) `sluice serve` process.
type Server struct {
	URL     string // DynamoDB API, "http://127.0.0.1:<port>"
	NATSURL string // embedded NATS, "nats://127.0.0.1:<port>"
	DataDir string
	PID     int

	bin      string
	opts     Options
	listen   string // host:port of the API once known
	natsAddr string // host:port of NATS once known
	cmd      *exec.Cmd
	done     chan struct{} // closed when the process has exited
	exitErr  error         // cmd.Wait's result, valid after done
	out      *syncBuffer   // stdout and stderr of every run
}

// Start starts `sluice serve` on free loopback ports and waits until it
// answers GET /. The server is stopped when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	bin := Build(t)
	if opts.DataDir == "" {
		opts.DataDir = t.TempDir() // registered before the stop below, so removed after it
	}
	s := &Server{
		DataDir:  opts.DataDir,
		bin:      bin,
		opts:     opts,
		listen:   "127.0.0.1:0",
		natsAddr: "127.0.0.1:0",
		out:      &syncBuffer{},
	}
	t.Cleanup(func() {
		s.halt()
		if t.Failed() {
			t.Logf("sluice output:\n%s", s.Output())
		}
	})
	if err := s.start(); err != nil {
		t.Fatalf("starting sluice: %v\noutput:\n%s", err, s.Output())
	}
	return s
}

// Output returns everything the server wrote so far (all runs).
func (s *Server) Output() string { return s.out.String() }

var (
	readyRE   = regexp.MustCompile(`sluice ready:`)
	httpURLRE = regexp.MustCompile(`http://[0-9.:\[\]a-zA-Z]+`)
	natsURLRE = regexp.MustCompile(`nats://[0-9.:\[\]a-zA-Z]+`)
)

func (s *Server) start() error {
	args := []string{"serve",
		"--listen", s.listen,
		"--data", s.DataDir,
		"--nats-listen", s.natsAddr,
		"--log-level", "warn",
	}
	args = append(args, s.opts.ExtraArgs...)
	cmd := exec.Command(s.bin, args...)
	cmd.Env = append(os.Environ(), s.opts.Env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = s.out
	fmt.Fprintf(s.out, "--- %s %s\n", filepath.Base(s.bin), strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return err
	}
	s.cmd, s.PID = cmd, cmd.Process.Pid
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		sent := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(s.out, line)
			if !sent && readyRE.MatchString(line) {
				ready <- line
				sent = true
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	done := make(chan struct{})
	s.done = done
	go func() {
		s.exitErr = cmd.Wait()
		close(done)
	}()

	deadline := time.NewTimer(readyTimeout)
	defer deadline.Stop()
	select {
	case line := <-ready:
		api := httpURLRE.FindString(line)
		nats := natsURLRE.FindString(line)
		if api == "" || nats == "" {
			s.halt()
			return fmt.Errorf("cannot find the API and NATS URLs in the ready line %q", line)
		}
		s.URL, s.NATSURL = api, nats
		s.listen = strings.TrimPrefix(api, "http://")
		s.natsAddr = strings.TrimPrefix(nats, "nats://")
	case <-done:
		return fmt.Errorf("sluice exited before it was ready: %v", s.exitErr)
	case <-deadline.C:
		s.halt()
		return fmt.Errorf("no ready line within %s", readyTimeout)
	}
	for {
		resp, err := http.Get(s.URL + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("sluice exited before it answered GET /: %v", s.exitErr)
		case <-deadline.C:
			s.halt()
			return fmt.Errorf("GET / did not answer 200 within %s (last error %v)", readyTimeout, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// running reports whether the process has been started and not yet exited.
func (s *Server) running() bool {
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// halt stops the process if it runs: SIGTERM, then SIGKILL after
// stopTimeout. It reports whether SIGKILL was needed.
func (s *Server) halt() (killed bool) {
	if !s.running() {
		return false
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return false
	case <-time.After(stopTimeout):
		_ = s.cmd.Process.Kill()
		<-s.done
		return true
	}
}

// Kill sends SIGKILL and waits for the process to exit.
func (s *Server) Kill() {
	if !s.running() {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
}

// Stop sends SIGTERM, waits for the process to exit, and fails t unless it
// exited with status 0 within the bound.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if !s.running() {
		t.Fatal("Stop: the server is not running")
	}
	if s.halt() {
		t.Fatalf("sluice did not exit within %s of SIGTERM; killed", stopTimeout)
	}
	if s.exitErr != nil {
		t.Fatalf("sluice exited with %v after SIGTERM; want status 0", s.exitErr)
	}
}

// Restart stops the server if it runs (failing t unless it exits cleanly)
// and starts it again on the same data directory and ports.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if s.running() {
		s.Stop(t)
	}
	var err error
	// A port just released is normally free at once (SO_REUSEADDR); retry
	// briefly in case the kernel still holds it.
	for attempt := 0; attempt < 5; attempt++ {
		if err = s.start(); err == nil {
			return
		}
		if !strings.Contains(s.out.String(), "address already in use") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("restarting sluice: %v", err)
}

// DynamoDB returns an AWS SDK client for the server: static credentials
// AKIDTEST/secret, region us-east-1, one attempt per call (no retries).
// optFns adjust the options further (for example EnableAcceptEncodingGzip).
func (s *Server) DynamoDB(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint:     aws.String(s.URL),
		Region:           Region,
		Credentials:      credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       HTTPClient,
	}, optFns...)
}

// HTTPClient is the HTTP client of the SDK clients sluicetest builds. Its
// transport hands net/http a copy of each request body: smithy-go closes the
// body it gave as soon as the response arrives, and against a server that
// answers before the client finished writing (loopback, a large request)
// net/http then fails the write and closes the connection under the
// response being read ("use of closed network connection").
var HTTPClient = &http.Client{Transport: ownBody{http.DefaultTransport}}

type ownBody struct{ next http.RoundTripper }

func (o ownBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return o.next.RoundTrip(req)
	}
	b, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	req = req.Clone(req.Context())
	req.Body = io.NopCloser(bytes.NewReader(b))
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.ContentLength = int64(len(b))
	return o.next.RoundTrip(req)
}

// Context returns a context for one test step: cancelled when t ends or
// after a minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// FreePort returns a loopback TCP port that was free a moment ago, for tests
// that must choose a port up front (Start itself binds port 0).
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
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
