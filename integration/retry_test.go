package integration

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRetryAfterDialErrorKeepsBody: reverse_proxy retries a request whose
// first upstream refused the connection, with the same body. The verified
// body (a pooled buffer) must still be whole for that retry: the transport
// closed it without reading it.
func TestRetryAfterDialErrorKeepsBody(t *testing.T) {
	up := newUpstream(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // now it refuses connections
	r := presetRoutes(t)[0]
	if r.name != "github" {
		t.Fatalf("first preset route is %s", r.name)
	}
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	loadFullConfig(t, debugLogOptions(logPath)+fmt.Sprintf(`http://localhost:%d {
	handle /github {
		webhook_verify github %q
		reverse_proxy %s %s {
			lb_policy first
			lb_retries 2
			lb_try_interval 1ms
			# The refused dial marks the first upstream down for a moment,
			# so the retry goes to the second.
			fail_duration 300ms
		}
	}
}
`, httpPort, r.secret, dead, up.addr()))
	for _, size := range []int{10, 64 << 10, 1 << 20} {
		time.Sleep(400 * time.Millisecond) // the dead upstream is tried first again
		body := randomBody(t, size)
		up.reset()
		a := send(t, delivery{Path: "/github", Body: body, Header: r.sign(r.secret, body, deliveryID(t), time.Now())})
		wantStatus(t, a, http.StatusOK)
		wantBodyThrough(t, up.only(t), body)
	}
	// Prove the retry path ran: every request first failed to dial.
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort))
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	refused := "dial tcp " + dead + ": connect: connection refused"
	if n := strings.Count(string(log), refused); n != 3 {
		t.Fatalf("the dead upstream refused %d dials, want 3 (one per request, each then retried)", n)
	}
}
