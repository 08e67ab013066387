// Package redistest runs real redis-server processes for tests, so that
// the replay store and the integration tests exercise Redis itself, not
// a fake. It needs the redis-server binary on PATH: without it a test
// is skipped under -short and fails otherwise (CI installs it).
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a redis-server on a loopback port, killed when the test
// ends.
type Server struct {
	// Addr is host:port, stable across Restart.
	Addr string

	t    testing.TB
	args []string

	mu  sync.Mutex
	cmd *exec.Cmd
	out *syncBuffer
}

// syncBuffer is the server's output: exec copies it in a goroutine
// while Output may read it.
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

// Start runs redis-server on a free loopback port, without persistence,
// and waits until it answers PING. extra arguments go on its command
// line (e.g. "--requirepass", "secret").
func Start(t testing.TB, extra ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testing.Short() {
			t.Skip("redis-server not found (skipped under -short): apt-get install redis-server")
		}
		t.Fatal("redis-server not found: apt-get install redis-server")
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), t: t}
	s.args = append([]string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", t.TempDir(),
	}, extra...)
	s.args = append([]string{bin}, s.args...)
	t.Cleanup(s.Stop)
	s.start()
	return s
}

// freePort asks the kernel for a free loopback port. Another process
// could take it before redis-server binds it; start then fails clearly.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return
	}
	out := new(syncBuffer)
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() {
		// Reaps the process; its exit status is in out if it matters.
		_ = cmd.Wait()
		close(exited)
	}()
	s.cmd, s.out = cmd, out
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(s.Addr) == nil {
			return
		}
		select {
		case <-exited:
			s.cmd = nil
			s.t.Fatalf("redis-server exited at start:\n%s", out)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s does not answer PING:\n%s", s.Addr, out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server (like a crash: SIGKILL, no shutdown) and waits
// until its port refuses connections. It does nothing if the server is
// stopped.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	// Kill fails only if the process already exited, which is the goal.
	_ = s.cmd.Process.Kill()
	s.cmd = nil
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		c, err := net.DialTimeout("tcp", s.Addr, 100*time.Millisecond)
		if err != nil {
			return
		}
		// A probe: nothing was sent on it.
		_ = c.Close()
	}
}

// Restart starts a stopped server again on the same address, empty.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start()
}

// Output is what the server logged (its current run).
func (s *Server) Output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.out == nil {
		return ""
	}
	return s.out.String()
}

// ping sends PING in the inline protocol and expects +PONG.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
	if err != nil {
		return err
	}
	// The answer was read or the ping failed: closing reports nothing new.
	defer func() { _ = c.Close() }()
	if err := c.SetDeadline(time.Now().Add(time.Second)); err != nil {
		return err
	}
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	// A server with requirepass answers -NOAUTH: it is up all the same.
	if !strings.HasPrefix(line, "+PONG") && !strings.HasPrefix(line, "-NOAUTH") {
		return fmt.Errorf("redis-server answered PING with %q", line)
	}
	return nil
}
