package integration

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestExampleRelayIsInternalOnly runs the real hookguard binary on
// Caddyfile.example, as the README says to: it validates without an open
// relay warning; a relay route asked on the public gateway (:8080) signs
// nothing and the demo receiver is not reached, while the same route on the
// relay site (127.0.0.1:8090) is signed and accepted by the receiver; and
// the relay site does not answer on this machine's other addresses.
func TestExampleRelayIsInternalOnly(t *testing.T) {
	root, err := signModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	example := filepath.Join(root, "Caddyfile.example")

	res := signRun(t, "validate", "--config", example)
	if out := res.Stdout + res.Stderr; res.Code != 0 || !strings.Contains(out, "Valid configuration") || strings.Contains(out, "open signing relay") {
		t.Fatalf("validate Caddyfile.example: exit %d\n%s", res.Code, out)
	}

	stderr := startExample(t, example)
	post := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Post(url, "application/json", strings.NewReader(`{"order":1}`))
		if err != nil {
			t.Fatalf("POST %s: %v", url, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// The demo receiver's certificate is issued after start: wait until
	// the loopback relay delivers, then ask the public gateway.
	for deadline := time.Now().Add(30 * time.Second); ; {
		status, body := post("http://localhost:8090/relay/internal")
		if status == http.StatusOK && strings.HasPrefix(body, "receiver verified standard webhook msg_") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the loopback relay did not deliver: %d %q", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, body := post("http://localhost:8080/relay/internal"); strings.Contains(body, "receiver verified") {
		t.Errorf("the public gateway relayed and signed a request: %d %q", status, body)
	}
	if addr := nonLoopbackAddr(t); addr != "" {
		if c, err := net.DialTimeout("tcp", net.JoinHostPort(addr, "8090"), 2*time.Second); err == nil {
			c.Close()
			t.Errorf("the relay site answers on %s, not only on loopback", addr)
		}
	}
	if strings.Contains(stderr.String(), "open signing relay") {
		t.Errorf("running Caddyfile.example logs an open relay warning:\n%s", stderr.String())
	}
}

// startExample runs hookguard on the config at path until the test ends,
// with a private home, and waits for its relay site to listen. It returns
// what the process writes to stderr (Caddy's log).
func startExample(t *testing.T, path string) *syncBuffer {
	t.Helper()
	bin := signBinary(t)
	home := t.TempDir()
	cmd := exec.Command(bin, "run", "--config", path)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home,
		"XDG_DATA_HOME="+filepath.Join(home, "data"), "XDG_CONFIG_HOME="+filepath.Join(home, "config"))
	stderr := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = io.Discard, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", "127.0.0.1:8443"); err == nil {
			c.Close()
			if c, err := net.Dial("tcp", "127.0.0.1:8090"); err == nil {
				c.Close()
				return stderr
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Caddyfile.example did not start listening:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// nonLoopbackAddr is an address of this machine other than loopback, or ""
// if it has none.
func nonLoopbackAddr(t *testing.T) string {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		if p, ok := a.(*net.IPNet); ok && !p.IP.IsLoopback() && p.IP.To4() != nil {
			return p.IP.String()
		}
	}
	return ""
}

// syncBuffer is a strings.Builder safe for a process to write while the
// test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
