package integration

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Ports of the hookguard process the burst test starts: its own, clear of
// caddytest's (2999, 9080, 9443).
const (
	burstAdminPort = 2996
	burstHTTPPort  = 9380
)

// envInt reads a positive integer from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q is not a positive integer", name, v)
	}
	return n
}

// peakRSS is a process's peak resident set (VmHWM), in bytes.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("needs /proc (Linux): %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmHWM %q: %v", rest, err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM in /proc/<pid>/status")
	return 0
}

// TestMemoryBurst drives issue 7's burst at the built hookguard binary:
// HOOKGUARD_BURST_CLIENTS (48) clients post validly signed bodies of
// HOOKGUARD_BURST_MIB (8) MiB at once to a webhook_verify route whose
// upstream holds every request until all have arrived, so every body is
// in flight at the same time. It logs the process's peak resident memory
// and fails above HOOKGUARD_BURST_LIMIT_MIB (256): without buffer_memory
// the burst takes about 500 MiB. integration/load/memory.sh runs it.
func TestMemoryBurst(t *testing.T) {
	clients := envInt(t, "HOOKGUARD_BURST_CLIENTS", 48)
	size := envInt(t, "HOOKGUARD_BURST_MIB", 8) << 20
	limit := int64(envInt(t, "HOOKGUARD_BURST_LIMIT_MIB", 256)) << 20
	bin := signBinary(t)

	// The upstream holds each request, unread, until all have arrived (or
	// a minute has passed), then reads and answers.
	var arrived atomic.Int64
	all := make(chan struct{})
	var allOnce sync.Once
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == int64(clients) {
			allOnce.Do(func() { close(all) })
		}
		select {
		case <-all:
		case <-time.After(time.Minute):
		}
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%d", n)
	}))
	defer up.Close()

	secret := rawSecret(t)
	home := t.TempDir()
	caddyfile := filepath.Join(home, "Caddyfile")
	os.WriteFile(caddyfile, []byte(fmt.Sprintf(`{
	admin localhost:%d
	http_port %d
	auto_https off
	persist_config off
	log {
		level ERROR
	}
}
http://127.0.0.1:%d {
	webhook_verify github %q
	reverse_proxy %s
}
`, burstAdminPort, burstHTTPPort, burstHTTPPort, secret, strings.TrimPrefix(up.URL, "http://"))), 0o600)
	cmd := exec.Command(bin, "run", "--config", caddyfile)
	cmd.Dir = home
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+filepath.Join(home, "data"),
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "TMPDIR="+home)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d/", burstHTTPPort)
	ready := time.Now().Add(30 * time.Second)
	for {
		if resp, err := http.Get(base); err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(ready) {
			t.Fatalf("hookguard did not start:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	idle := peakRSS(t, cmd.Process.Pid)

	body := randomBody(t, size)
	h := presetSigner(t, "github")(secret, body, "burst", time.Now())
	tr := &http.Transport{MaxConnsPerHost: 0, MaxIdleConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Minute}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, base, bytes.NewReader(body))
			for k, v := range h {
				req.Header[k] = v
			}
			resp, err := hc.Do(req)
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusOK || string(got) != strconv.Itoa(size) {
				errs <- fmt.Errorf("status %d, upstream read %q bytes, want %d", resp.StatusCode, got, size)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("burst request: %v", err)
	}
	if n := arrived.Load(); n != int64(clients) {
		t.Errorf("%d of %d requests reached the upstream", n, clients)
	}
	peak := peakRSS(t, cmd.Process.Pid)
	t.Logf("peak RSS for %d concurrent %d MiB bodies: %d MiB (idle %d MiB) in %v",
		clients, size>>20, peak>>20, idle>>20, time.Since(start).Round(time.Millisecond))
	fmt.Printf("peak_rss_mib=%d idle_rss_mib=%d clients=%d body_mib=%d\n", peak>>20, idle>>20, clients, size>>20)
	if peak > limit {
		t.Errorf("peak RSS %d MiB is over %d MiB", peak>>20, limit>>20)
	}
	if left, _ := filepath.Glob(filepath.Join(home, "hookguard-*")); len(left) > 0 {
		t.Errorf("spool files left behind: %v", left)
	}
}
