package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Ports of the hookguard processes the relay tests start (the built
// binary), and of receivers that must be down at first (a fixed port).
const (
	relayAdminPortA = 2960
	relayAdminPortB = 2961
	relayHTTPPortA  = 9340
	relayHTTPPortB  = 9341
	relayRecvPort   = 9342
)

// relayKey is the header a test sends on each webhook to tell them apart
// at the receiver (the relay sends no id of its own unless it signs).
const relayKey = "X-Relay-Test-Key"

// relayHit is one attempt the receiver got.
type relayHit struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
	Status                 int // what the receiver answered
	At                     time.Time
}

// relayReceiver is the app behind a relay: it records every attempt in
// full and answers what policy says for the key's n-th attempt (1-based).
type relayReceiver struct {
	srv *httptest.Server

	mu     sync.Mutex
	hits   map[string][]relayHit // by relayKey
	policy func(key string, attempt int, r *http.Request) int
	hold   func(key string, attempt int) // runs before answering

	addrWanted string // a fixed address, listened on by start
	started    bool
}

// newRelayReceiver starts a receiver on a free port (addr "" ) or on addr;
// with start false it is not started (down) until start().
func newRelayReceiver(t *testing.T, addr string, start bool) *relayReceiver {
	t.Helper()
	rc := &relayReceiver{hits: map[string][]relayHit{}}
	rc.srv = httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	if addr != "" {
		rc.srv.Listener.Close()
		rc.srv.Listener = nil
		rc.addrWanted = addr
	}
	t.Cleanup(func() {
		if rc.started {
			rc.srv.Close()
		}
	})
	if start {
		rc.start(t)
	}
	return rc
}

func (rc *relayReceiver) start(t *testing.T) {
	t.Helper()
	if rc.addrWanted != "" {
		var err error
		for deadline := time.Now().Add(5 * time.Second); ; {
			rc.srv.Listener, err = net.Listen("tcp", rc.addrWanted)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("receiver cannot listen on %s: %v", rc.addrWanted, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	rc.srv.Start()
	rc.started = true
}

func (rc *relayReceiver) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body)) // for a policy that reads it (bodyOf)
	key := r.Header.Get(relayKey)
	rc.mu.Lock()
	n := len(rc.hits[key]) + 1
	policy, hold := rc.policy, rc.hold
	rc.hits[key] = append(rc.hits[key], relayHit{}) // reserve the attempt number
	rc.mu.Unlock()
	if hold != nil {
		hold(key, n)
	}
	status := http.StatusOK
	if policy != nil {
		status = policy(key, n, r)
	}
	rc.mu.Lock()
	rc.hits[key][n-1] = relayHit{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(),
		Body: body, Status: status, At: time.Now()}
	rc.mu.Unlock()
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "0")
	}
	w.WriteHeader(status)
}

// bodyOf is the body of a request the receiver got, for its policy.
func (rc *relayReceiver) bodyOf(r *http.Request) []byte {
	b, _ := io.ReadAll(r.Body)
	return b
}

func (rc *relayReceiver) setPolicy(p func(key string, attempt int, r *http.Request) int) {
	rc.mu.Lock()
	rc.policy = p
	rc.mu.Unlock()
}

func (rc *relayReceiver) setHold(h func(key string, attempt int)) {
	rc.mu.Lock()
	rc.hold = h
	rc.mu.Unlock()
}

// url is the receiver's base URL, without a path.
func (rc *relayReceiver) url() string {
	if rc.addrWanted != "" {
		return "http://" + rc.addrWanted
	}
	return rc.srv.URL
}

// attempts returns the attempts of key so far.
func (rc *relayReceiver) attempts(key string) []relayHit {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]relayHit(nil), rc.hits[key]...)
}

// keys are the keys of every attempt so far.
func (rc *relayReceiver) keys() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for k := range rc.hits {
		out = append(out, k)
	}
	return out
}

// delivered is how many attempts of key were answered 2xx.
func (rc *relayReceiver) delivered(key string) int {
	n := 0
	for _, h := range rc.attempts(key) {
		if h.Status >= 200 && h.Status < 300 {
			n++
		}
	}
	return n
}

// waitDelivered waits until key was delivered at least once and returns
// the delivering attempt.
func (rc *relayReceiver) waitDelivered(t *testing.T, key string, within time.Duration) relayHit {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		for _, h := range rc.attempts(key) {
			if h.Status >= 200 && h.Status < 300 {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %s not delivered within %v; attempts: %d", key, within, len(rc.attempts(key)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// relaySend POSTs body to url with the test key and extra headers, and
// returns the status, the relay id and the response's headers.
func relaySend(t *testing.T, method, url, key string, body []byte, h http.Header) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set(relayKey, key)
	resp, err := relayClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Webhook-Relay-Id"), resp.Header
}

// relayClient dials a fresh connection per request: configs are reloaded
// between requests.
var relayClient = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

// relayAdmin calls the admin API at addr and decodes a JSON answer into
// out (if not nil); it returns the status.
func relayAdmin(t *testing.T, addr, method, path string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := relayClient.Do(req)
	if err != nil {
		t.Fatalf("admin %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("admin %s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode
}

// relayQueue is GET /webhooks/relay/ of one route.
type relayQueue struct {
	Queued, InFlight, Dead int
	Bytes                  int64
}

func relayQueueOf(t *testing.T, addr, route string) relayQueue {
	t.Helper()
	var st struct {
		Relays []struct {
			Name  string `json:"name"`
			Relay *struct {
				Queued   int    `json:"queued"`
				Bytes    int64  `json:"bytes"`
				InFlight int    `json:"in_flight"`
				Dead     int    `json:"dead"`
				Error    string `json:"error"`
			} `json:"relay"`
		} `json:"relays"`
	}
	if code := relayAdmin(t, addr, http.MethodGet, "/webhooks/relay/", &st); code != http.StatusOK {
		t.Fatalf("GET /webhooks/relay/: %d", code)
	}
	for _, r := range st.Relays {
		if r.Name == route && r.Relay != nil {
			if r.Relay.Error != "" {
				t.Fatalf("relay %s: %s", route, r.Relay.Error)
			}
			return relayQueue{Queued: r.Relay.Queued, InFlight: r.Relay.InFlight, Dead: r.Relay.Dead, Bytes: r.Relay.Bytes}
		}
	}
	t.Fatalf("no relay %q in the admin API's answer %+v", route, st)
	return relayQueue{}
}

// relayProc is a hookguard process (the built binary) running a relay
// config; it can be SIGKILLed and started again on the same files.
type relayProc struct {
	t    *testing.T
	home string
	cfg  string
	cmd  *exec.Cmd
	done chan struct{}
	logs *syncBuffer
}

// startRelayProc writes caddyfile into a private home and runs the binary
// on it, waiting until httpPort listens.
func startRelayProc(t *testing.T, caddyfile string, httpPort int) *relayProc {
	t.Helper()
	home := t.TempDir()
	p := &relayProc{t: t, home: home, cfg: filepath.Join(home, "Caddyfile")}
	if err := os.WriteFile(p.cfg, []byte(caddyfile), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("hookguard log:\n%s", p.logs.String())
		}
	})
	p.run(httpPort)
	return p
}

func (p *relayProc) run(httpPort int) {
	t := p.t
	t.Helper()
	cmd := exec.Command(signBinary(t), "run", "--config", p.cfg)
	cmd.Dir = p.home
	cmd.Env = append(os.Environ(), "HOME="+p.home, "XDG_DATA_HOME="+filepath.Join(p.home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(p.home, "config"), "TMPDIR="+p.home)
	if p.logs == nil {
		p.logs = new(syncBuffer)
	}
	cmd.Stdout, cmd.Stderr = p.logs, p.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	for deadline := time.Now().Add(30 * time.Second); ; {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort)); err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			t.Fatalf("hookguard exited at start:\n%s", p.logs.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookguard did not start listening:\n%s", p.logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill SIGKILLs the process and waits for it to be gone.
func (p *relayProc) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *relayProc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.kill()
	}
}

// relayGlobal is the global block of a relay process: its own ports, no
// HTTPS, no autosaved config.
func relayGlobal(adminPort, httpPort int) string {
	return fmt.Sprintf(`{
	admin 127.0.0.1:%d
	http_port %d
	auto_https off
	persist_config off
	grace_period 1ns
}
`, adminPort, httpPort)
}

// relayStoreLine is the store subdirective of a conformance run.
func relayStoreLine(kind, arg string) string {
	if kind == "redis" {
		return fmt.Sprintf("store redis {\n\t\t\taddress %s\n\t\t}", arg)
	}
	return "store bbolt " + arg
}

// eventually polls cond until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// headerSent reports whether got carries every value of want.
func headerSent(got, want http.Header) error {
	for k, vs := range want {
		if g := got.Values(k); strings.Join(g, "\x00") != strings.Join(vs, "\x00") {
			return fmt.Errorf("header %s: got %q, want %q", k, g, vs)
		}
	}
	return nil
}
