package integration

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestExampleRelayIsInternalOnly runs the real hookguard binary on
// Caddyfile.example, as the README says to: it validates without an open
// relay warning; a relay route asked on the public gateway (:8080) signs
// nothing and the demo receiver is not reached, while the relay site
// (127.0.0.1:8090) signs and delivers to the demo receiver through both
// of its local routes: the one that trusts Caddy's local CA only, and the
// last-resort one that skips verification.
func TestExampleRelayIsInternalOnly(t *testing.T) {
	path := examplePath(t)
	res := signRun(t, "validate", "--config", path)
	if out := res.Stdout + res.Stderr; res.Code != 0 || !strings.Contains(out, "Valid configuration") || strings.Contains(out, "open signing relay") {
		t.Fatalf("validate Caddyfile.example: exit %d\n%s", res.Code, out)
	}

	ex := startExample(t, path)
	// The demo receiver's certificate is issued after start: wait until
	// the loopback relay delivers, then ask the others.
	for deadline := time.Now().Add(30 * time.Second); ; {
		status, body := examplePost(t, "http://localhost:8090/relay/internal", nil, `{"order":1}`)
		if status == http.StatusOK && strings.HasPrefix(body, "receiver verified standard webhook msg_") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the loopback relay did not deliver: %d %q", status, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, body := examplePost(t, "http://localhost:8090/relay/legacy", nil, `{"order":2}`); status != http.StatusOK ||
		!strings.HasPrefix(body, "receiver verified standard webhook msg_") {
		t.Errorf("/relay/legacy did not reach the demo receiver: %d %q", status, body)
	}
	// A key pair end to end: /relay/v1a signs with the private key, the
	// gateway's /standard-v1a verifies with the public one.
	if status, body := examplePost(t, "http://localhost:8090/relay/v1a", nil, `{"order":3}`); status != http.StatusOK ||
		!strings.HasPrefix(body, `app got a standard-v1a webhook (key `) || !strings.Contains(body, `{"order":3}`) {
		t.Errorf("/relay/v1a to /standard-v1a: %d %q", status, body)
	}
	if status, _ := examplePost(t, "http://localhost:8080/standard-v1a", nil, `{"order":3}`); status != http.StatusUnauthorized {
		t.Errorf("an unsigned request to /standard-v1a: %d, want 401", status)
	}
	// The queued, signed relay: 202 once stored, then delivered to the
	// demo receiver, which verifies the signature (a 401 there would make
	// a dead letter).
	if status, _ := examplePost(t, "http://localhost:8090/relay/queued", nil, `{"order":4}`); status != http.StatusAccepted {
		t.Errorf("/relay/queued: %d, want 202", status)
	}
	for deadline := time.Now().Add(20 * time.Second); ; {
		var st struct {
			Relays []struct {
				Name  string `json:"name"`
				Relay struct {
					Queued int `json:"queued"`
					Dead   int `json:"dead"`
				} `json:"relay"`
			} `json:"relays"`
		}
		exampleAdmin(t, http.MethodGet, "/webhooks/relay/", &st)
		done := len(st.Relays) > 0
		for _, r := range st.Relays {
			if r.Relay.Dead != 0 {
				t.Fatalf("relay %s has a dead letter: the demo receiver refused it", r.Name)
			}
			done = done && r.Relay.Queued == 0
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the queued relay did not deliver: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if status, body := examplePost(t, "http://localhost:8080/relay/internal", nil, `{"order":1}`); strings.Contains(body, "receiver verified") {
		t.Errorf("the public gateway relayed and signed a request: %d %q", status, body)
	}
	if strings.Contains(ex.stderr.String(), "open signing relay") {
		t.Errorf("running Caddyfile.example logs an open relay warning:\n%s", ex.stderr.String())
	}
}

// TestExampleServesOnLoopbackOnly: Caddyfile.example holds public demo
// secrets, so nothing it serves may be reachable from the network. Every
// socket the process listens on (TCP, and UDP for HTTP/3) is bound to a
// loopback address, as /proc/net says, and none of its ports answers on
// this machine's other addresses. A site address (http://localhost:8080)
// does not do that by itself: it only matches the Host header.
func TestExampleServesOnLoopbackOnly(t *testing.T) {
	ex := startExample(t, examplePath(t))
	ports := []int{2019, 8080, 8081, 8090, 8443}

	if runtime.GOOS == "linux" {
		socks, err := listeningSockets(ex.pid)
		if err != nil {
			t.Fatalf("reading the process's sockets from /proc: %v", err)
		}
		tcpPorts := map[int]bool{}
		for _, s := range socks {
			if !s.addr.Addr().IsLoopback() {
				t.Errorf("%s socket bound to %s: reachable from the network", s.proto, s.addr)
			}
			if s.proto == "tcp" || s.proto == "tcp6" {
				tcpPorts[int(s.addr.Port())] = true
			}
		}
		for _, p := range ports {
			if !tcpPorts[p] {
				t.Errorf("no listening TCP socket on port %d among %v: /proc was not read right", p, socks)
			}
		}
	} else {
		t.Logf("%s: no /proc/net; only dialing the other addresses", runtime.GOOS)
	}

	addrs := nonLoopbackAddrs()
	if len(addrs) == 0 {
		t.Logf("this machine has no address but loopback: nothing to dial")
	}
	for _, ip := range addrs {
		for _, p := range ports {
			addr := net.JoinHostPort(ip.String(), strconv.Itoa(p))
			if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
				c.Close()
				t.Errorf("the example answers on %s, not only on loopback", addr)
			}
		}
	}
}

// TestExampleErrorsScoped: the example's handle_errors shapes only the
// statuses hookguard answers with. With the app down, a valid webhook gets
// reverse_proxy's 502 with Caddy's default empty body: no "rejected", no
// internal address, no dial error. A forged one is still shaped.
func TestExampleErrorsScoped(t *testing.T) {
	startExample(t, examplePath(t))
	const secret = "demo_2n3s69hTqGpUmYuOSF5h7Pa4" // the example's /github secret
	body := `{"action":"opened"}`
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	signed := http.Header{"X-Hub-Signature-256": {"sha256=" + hex.EncodeToString(mac.Sum(nil))}}

	if status, got := examplePost(t, "http://localhost:8080/github", signed, body+" "); status != http.StatusUnauthorized ||
		!strings.HasPrefix(got, "rejected: 401 wrong_signature") {
		t.Errorf("a forged webhook got %d %q, want 401 shaped by handle_errors", status, got)
	}

	// Take the demo app (the server on :8081) down through the admin API.
	var servers map[string]struct {
		Listen []string `json:"listen"`
	}
	exampleAdmin(t, http.MethodGet, "/config/apps/http/servers", &servers)
	app := ""
	for name, s := range servers {
		for _, l := range s.Listen {
			if strings.HasSuffix(l, ":8081") {
				app = name
			}
		}
	}
	if app == "" {
		t.Fatalf("no server listens on :8081: %v", servers)
	}
	exampleAdmin(t, http.MethodDelete, "/config/apps/http/servers/"+app, nil)

	status, got := examplePost(t, "http://localhost:8080/github", signed, body)
	if status != http.StatusBadGateway {
		t.Fatalf("a valid webhook with the app down got %d %q, want 502", status, got)
	}
	for _, leak := range []string{"rejected", "127.0.0.1", "[::1]", "localhost", "8081", "dial", "connection refused"} {
		if strings.Contains(got, leak) {
			t.Errorf("the 502 carries %q: %q", leak, got)
		}
	}
}

// examplePath is Caddyfile.example in the checkout.
func examplePath(t *testing.T) string {
	t.Helper()
	root, err := signModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "Caddyfile.example")
}

// examplePost POSTs body with header h to url and returns the answer.
func examplePost(t *testing.T, url string, h http.Header, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, vs := range h {
		req.Header[k] = vs
	}
	resp, err := exampleClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// exampleClient opens a connection per request: a config change through
// the admin API closes the connections of the config it replaces, and a
// POST on such a connection would fail rather than be retried.
var exampleClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}

// exampleAdmin calls the example's admin API (localhost:2019) and decodes
// a JSON answer into out, if not nil.
func exampleAdmin(t *testing.T, method, path string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, "http://localhost:2019"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := exampleClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
}

// socket is a bound socket of a process, as /proc/net lists it.
type socket struct {
	proto string // tcp, tcp6, udp, udp6
	addr  netip.AddrPort
}

func (s socket) String() string { return s.proto + " " + s.addr.String() }

// listeningSockets lists the TCP sockets the process pid listens on and
// the UDP sockets it has bound, from /proc/<pid>/fd and /proc/net.
func listeningSockets(pid int) ([]socket, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var socks []socket
	for _, proto := range []string{"tcp", "tcp6", "udp", "udp6"} {
		b, err := os.ReadFile("/proc/net/" + proto)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no IPv6 in this kernel
		}
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			// TCP: only listeners (state 0A). UDP: every bound socket
			// receives.
			if strings.HasPrefix(proto, "tcp") && f[3] != "0A" {
				continue
			}
			a, err := parseProcAddr(f[1])
			if err != nil {
				return nil, fmt.Errorf("/proc/net/%s: %q: %w", proto, f[1], err)
			}
			socks = append(socks, socket{proto, a})
		}
	}
	return socks, nil
}

// parseProcAddr parses a /proc/net address, such as 0100007F:1F90: the
// address in hex as 32-bit words in host byte order (little-endian on
// every platform Go's tests here run on), the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, errors.New("no port")
	}
	raw, err := hex.DecodeString(host)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", host)
	}
	for i := 0; i < len(raw); i += 4 {
		binary.BigEndian.PutUint32(raw[i:], binary.LittleEndian.Uint32(raw[i:]))
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, err
	}
	a, _ := netip.AddrFromSlice(raw)
	return netip.AddrPortFrom(a.Unmap(), uint16(p)), nil
}

// example is a hookguard process running a config, as the README's first
// command runs Caddyfile.example.
type example struct {
	pid    int
	stderr *syncBuffer // what the process writes to stderr (Caddy's log)
}

// startExample runs hookguard on the config at path until the test ends,
// with a private home, and waits for its relay site to listen.
func startExample(t *testing.T, path string) *example {
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
				return &example{pid: cmd.Process.Pid, stderr: stderr}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Caddyfile.example did not start listening:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// nonLoopbackAddrs are this machine's addresses other than loopback and
// IPv6 link-local (which cannot be dialed without a zone).
func nonLoopbackAddrs() []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var ips []net.IP
	for _, a := range addrs {
		if p, ok := a.(*net.IPNet); ok && !p.IP.IsLoopback() && !p.IP.IsLinkLocalUnicast() {
			ips = append(ips, p.IP)
		}
	}
	return ips
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
