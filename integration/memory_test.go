package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// openSpoolFiles lists this process's open files named hookguard-* in dir,
// unlinked ones included ("/tmp/x/hookguard-123 (deleted)"): the Caddy of
// caddytest runs in this process, so its spool files show here.
func openSpoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("needs /proc/self/fd (Linux)")
	}
	var out []string
	for _, fd := range fds {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name()))
		if err == nil && strings.HasPrefix(target, filepath.Join(dir, "hookguard-")) {
			out = append(out, target)
		}
	}
	return out
}

// spoolUpstream is an upstream that records, before it reads a body, the
// spool files open in dir at that moment.
type spoolUpstream struct {
	upstream
	mu    sync.Mutex
	files [][]string
}

func newSpoolUpstream(t *testing.T, dir string) *spoolUpstream {
	u := new(spoolUpstream)
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		open := openSpoolFiles(t, dir)
		u.mu.Lock()
		u.files = append(u.files, open)
		u.mu.Unlock()
		u.serveHTTP(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *spoolUpstream) lastFiles() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.files) == 0 {
		return nil
	}
	return u.files[len(u.files)-1]
}

// waitNoSpoolFiles waits a moment for the spool files in dir to be closed
// (the transport closes a body it has sent just after the upstream's
// answer) and fails the test if any is left, open or on disk.
func waitNoSpoolFiles(t *testing.T, dir string) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for len(openSpoolFiles(t, dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if open := openSpoolFiles(t, dir); len(open) > 0 {
		t.Errorf("spool files still open after the request: %v", open)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "hookguard-*")); len(left) > 0 {
		t.Errorf("spool files left in the temp dir after the request: %v", left)
	}
}

// TestBufferMemorySpoolsLargeBodies: a body larger than a route's
// buffer_memory is spooled to a temporary file while it is checked (the
// file is open while the upstream receives the request, and already
// unlinked), arrives byte for byte with its Content-Length, and leaves
// nothing behind; a small body stays in memory. Both directions: a signed
// relay (webhook_sign) in front of a verifying route (webhook_verify).
func TestBufferMemorySpoolsLargeBodies(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("TMPDIR", dir) // os.TempDir() of the in-process Caddy
	up := newSpoolUpstream(t, dir)
	ghSecret := rawSecret(t)
	stdSecret := whsecSecret(t)
	loadConfig(t, fmt.Sprintf(`http://localhost:%d {
	handle /github {
		webhook_verify github %q {
			max_body 32MiB
			buffer_memory 64KiB
		}
		reverse_proxy %s
	}
	handle /relay {
		webhook_sign standard %q {
			max_body 32MiB
			buffer_memory 64KiB
		}
		rewrite * /standard
		reverse_proxy localhost:%d
	}
	handle /standard {
		webhook_verify standard %q {
			max_body 32MiB
			buffer_memory 64KiB
		}
		reverse_proxy %s
	}
%s}
`, httpPort, ghSecret, up.addr(), stdSecret, httpPort, stdSecret, up.addr(), errorsBlock))
	sign := presetSigner(t, "github")

	// Large enough that the proxy is still sending it from the spool file
	// when the upstream starts on the request, whatever the socket buffers.
	big := randomBody(t, 20<<20)
	for _, c := range []struct {
		name   string
		d      delivery
		spools int // spool files open when the upstream gets the request, at most
	}{
		{"verify", delivery{Path: "/github", Body: big, Header: sign(ghSecret, big, deliveryID(t), time.Now())}, 1},
		{"verify_chunked", delivery{Path: "/github", Body: big, Chunked: true, Header: sign(ghSecret, big, deliveryID(t), time.Now())}, 1},
		// The verifying route's file, and the signing route's until its
		// reader has reached the end and closed it (it has sent the whole
		// body by then, but may not have closed the file yet).
		{"sign_then_verify", delivery{Path: "/relay", Body: big}, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			up.reset()
			a := send(t, c.d)
			wantStatus(t, a, http.StatusOK)
			wantBodyThrough(t, up.only(t), big)
			if got := up.lastFiles(); len(got) < 1 || len(got) > c.spools {
				t.Errorf("spool files open while the upstream got the request: %v, want 1 to %d", got, c.spools)
			} else {
				for _, f := range got {
					if !strings.HasSuffix(f, "(deleted)") {
						t.Errorf("spool file %s was not unlinked at once", f)
					}
				}
			}
			waitNoSpoolFiles(t, dir)
		})
	}

	t.Run("small_stays_in_memory", func(t *testing.T) {
		for range 20 {
			small := randomBody(t, 16<<10)
			up.reset()
			a := send(t, delivery{Path: "/github", Body: small, Header: sign(ghSecret, small, deliveryID(t), time.Now())})
			wantStatus(t, a, http.StatusOK)
			wantBodyThrough(t, up.only(t), small)
			if got := up.lastFiles(); len(got) != 0 {
				t.Fatalf("a 16 KiB body under a 64 KiB budget was spooled: %v", got)
			}
		}
	})

	t.Run("rejected_leaves_nothing", func(t *testing.T) {
		up.reset()
		a := send(t, delivery{Path: "/github", Body: big, Header: sign(rawSecret(t), big, deliveryID(t), time.Now())})
		wantRejected(t, a, http.StatusUnauthorized, &up.upstream, 0)
		waitNoSpoolFiles(t, dir)
	})
}

// slowPost sends a POST announcing size bytes of body, signed for the
// github route, then the first part bytes of it, then feeds the rest one
// byte every trickle (never, if trickle is 0). It returns the status line
// the server answered with ("" if it closed the connection without one)
// and how long the answer took from the first byte of body.
func slowPost(t *testing.T, path, secret string, size, part int, trickle time.Duration) (string, time.Duration) {
	t.Helper()
	body := randomBody(t, size)
	h := presetSigner(t, "github")(secret, body, deliveryID(t), time.Now())
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", httpPort))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var head strings.Builder
	fmt.Fprintf(&head, "POST %s HTTP/1.1\r\nHost: localhost:%d\r\nContent-Length: %d\r\n", path, httpPort, size)
	for k, vs := range h {
		for _, v := range vs {
			fmt.Fprintf(&head, "%s: %s\r\n", k, v)
		}
	}
	head.WriteString("\r\n")
	if _, err := io.WriteString(conn, head.String()); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := conn.Write(body[:part]); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	if trickle > 0 {
		go func() {
			for i := part; i < size; i++ {
				select {
				case <-stop:
					return
				case <-time.After(trickle):
				}
				if _, err := conn.Write(body[i : i+1]); err != nil {
					return
				}
			}
		}()
	}
	conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, _ := bufio.NewReader(conn).ReadString('\n')
	return strings.TrimSpace(line), time.Since(start)
}

// TestReadTimeout: a client that sends its headers and part of its body,
// then stalls, or trickles the rest one byte at a time (never idle long
// enough for Caddy's read_idle_timeout), gets 408 about read_timeout
// later, and nothing reaches the upstream. The deadline is set through
// http.ResponseController and so goes through Caddy's read idle timeout
// wrapper, which is on by default (1m): this shows it takes effect there.
func TestReadTimeout(t *testing.T) {
	up := newUpstream(t)
	secret := rawSecret(t)
	loadConfig(t, fmt.Sprintf(`http://localhost:%d {
	handle /github {
		webhook_verify github %q {
			read_timeout 1s
		}
		reverse_proxy %s
	}
	handle /sign {
		webhook_sign standard %q {
			read_timeout 1s
		}
		reverse_proxy %s
	}
%s}
`, httpPort, secret, up.addr(), whsecSecret(t), up.addr(), errorsBlock))
	for _, c := range []struct {
		name    string
		path    string
		trickle time.Duration
	}{
		{"verify_stalled", "/github", 0},
		{"verify_trickle", "/github", 100 * time.Millisecond},
		{"sign_trickle", "/sign", 100 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			up.reset()
			status, took := slowPost(t, c.path, secret, 100_000, 1000, c.trickle)
			if status != "" && !strings.HasPrefix(status, "HTTP/1.1 408") {
				t.Errorf("answered %q, want 408 or the connection closed", status)
			}
			if took < 900*time.Millisecond || took > 5*time.Second {
				t.Errorf("answered after %v, want about read_timeout (1s)", took)
			}
			if n := up.count(); n != 0 {
				t.Errorf("upstream saw %d request(s) of a body that never arrived", n)
			}
			t.Logf("%q after %v", status, took.Round(time.Millisecond))
		})
	}
	// A client that sends in time is not affected by the deadline of the
	// request before it on the same connection.
	t.Run("in_time", func(t *testing.T) {
		for range 3 {
			body := randomBody(t, 50_000)
			up.reset()
			a := send(t, delivery{Path: "/github", Body: body, Header: presetSigner(t, "github")(secret, body, deliveryID(t), time.Now())})
			wantStatus(t, a, http.StatusOK)
			wantBodyThrough(t, up.only(t), body)
			time.Sleep(1200 * time.Millisecond) // past the deadline, on a kept-alive connection
		}
	})
}

// TestBodyOptionsCaddyfileErrors: bad buffer_memory and read_timeout
// values fail at adapt time, naming the line and what to write, in both
// directives.
func TestBodyOptionsCaddyfileErrors(t *testing.T) {
	for _, directive := range []string{"webhook_verify github", "webhook_sign standard"} {
		for _, c := range []struct {
			line string
			want []string
		}{
			{"buffer_memory lots", []string{`buffer_memory: "lots" is not a size`, "64MiB"}},
			{"buffer_memory 0", []string{`buffer_memory: "0" is not a size`, "64MiB"}},
			{"buffer_memory", []string{"buffer_memory needs a value"}},
			{"read_timeout soon", []string{`read_timeout: "soon" is not a positive duration`, "30s"}},
			{"read_timeout 0", []string{`read_timeout: "0" is not a positive duration`, "30s"}},
			{"read_timeout -5s", []string{"read_timeout -5s is negative", "30s"}},
			{"read_timeout 5s 10s", []string{`read_timeout: unexpected argument "10s"`}},
		} {
			t.Run(directive+"/"+c.line, func(t *testing.T) {
				cfg := globalOptions + fmt.Sprintf("\nhttp://localhost:%d {\n\t%s {env.SECRET} {\n\t\t%s # <-\n\t}\n\treverse_proxy localhost:1\n}\n", httpPort, directive, c.line)
				wantAdaptError(t, cfg, c.want...)
			})
		}
	}
	// And good values adapt, into the JSON fields.
	cfg := globalOptions + fmt.Sprintf("\nhttp://localhost:%d {\n\twebhook_verify github {env.SECRET} {\n\t\tbuffer_memory 8MiB\n\t\tread_timeout 45s\n\t}\n\treverse_proxy localhost:1\n}\n", httpPort)
	out, err := adapt(t, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{`"buffer_memory":8388608`, `"read_timeout":45000000000`} {
		if !strings.Contains(string(out), w) {
			t.Errorf("adapted JSON lacks %s:\n%s", w, out)
		}
	}
}
