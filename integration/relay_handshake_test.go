package integration

import (
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

// TestRelayHandshakesAndSignWarning: behind a webhook_relay, the app
// answers only later, so a sender's signed handshake (Slack's
// url_verification) is answered by the gateway without handshake answer,
// and never queued; a webhook_sign in front of a relay is warned about at
// load (its timestamp would go stale on retries).
func TestRelayHandshakesAndSignWarning(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	secret := rawSecret(t)
	logPath := filepath.Join(t.TempDir(), "caddy.log")
	loadFullConfig(t, infoLogOptions(logPath)+fmt.Sprintf(`http://localhost:%d {
	handle /slack {
		webhook_verify slack %q
		webhook_relay http://%s {
			store bbolt %s
			retry 50ms
		}
	}
	handle /stale {
		webhook_sign standard "whsec_cwduU7NgUiZHj6Q6ZMq43AEuo9OePyYNsLblBZxopnY="
		webhook_relay http://%s {
			store bbolt %s
			name stale
		}
	}
}
`, httpPort, secret, up.addr(), filepath.Join(t.TempDir(), "a.db"), up.addr(), filepath.Join(t.TempDir(), "b.db")))
	s, err := preset.Get("slack", preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"token":"x","challenge":"chal-123","type":"url_verification"}`)
	h := signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, Time: time.Now()})
	code, text := postSigned(t, gatewayURL+"/slack", h, body)
	if code != http.StatusOK || text != "chal-123" {
		t.Errorf("signed url_verification behind a relay: %d %q, want the challenge from the gateway", code, text)
	}
	event := []byte(`{"type":"event_callback","event":{"type":"message"}}`)
	h = signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: event, Time: time.Now()})
	if code, _ := postSigned(t, gatewayURL+"/slack", h, event); code != http.StatusAccepted {
		t.Errorf("a signed event: %d, want 202 (queued)", code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for up.count() < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := up.count(); n != 1 {
		t.Errorf("the app got %d requests, want the event only", n)
	}
	// Loading another config flushes the log.
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort))
	found := false
	for _, e := range readLog(t, logPath) {
		if strings.Contains(e.str("msg"), "webhook_sign runs before webhook_relay") {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning at load for webhook_sign in front of webhook_relay")
	}
}
