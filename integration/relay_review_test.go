package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// TestRelayReviewFixes (outside review of webhook_relay): two relays of one
// config with one name fail the load (they would share a queue and mix
// their signing keys); relays without a name get distinct names made of
// the host only, never the URL's path (Slack-style URLs hold a token
// there), and the admin API shows no such path; a signing relay anyone can
// reach is warned about at load.
func TestRelayReviewFixes(t *testing.T) {
	skipShort(t)
	dir := t.TempDir()
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort)) // Caddy runs
	err := postLoad(t, globalOptions+fmt.Sprintf(`
http://localhost:%d {
	handle /a {
		webhook_relay http://127.0.0.1:1/a {
			name out
			store bbolt %s
		}
	}
	handle /b {
		webhook_relay http://127.0.0.1:1/b {
			name out
			store bbolt %s
		}
	}
}
`, httpPort, filepath.Join(dir, "r.db"), filepath.Join(dir, "r.db")))
	if err == nil || !strings.Contains(err.Error(), `another webhook_relay of this config is named`) {
		t.Fatalf("two relays named out: load = %v, want refused", err)
	}

	logPath := filepath.Join(dir, "caddy.log")
	loadFullConfig(t, infoLogOptions(logPath)+fmt.Sprintf(`
http://localhost:%d {
	handle /s1 {
		webhook_relay http://127.0.0.1:1/services/T000/B000/SECRETPATHTOKEN {
			store bbolt %s
			sign standard "whsec_cwduU7NgUiZHj6Q6ZMq43AEuo9OePyYNsLblBZxopnY="
		}
	}
	handle /s2 {
		webhook_relay http://127.0.0.1:1/services/T000/B000/SECRETPATHTOKEN {
			store bbolt %s
		}
	}
}
`, httpPort, filepath.Join(dir, "r.db"), filepath.Join(dir, "r.db")))
	resp, err := http.Get(fmt.Sprintf("http://localhost:%d/webhooks/relay/", adminPort))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var st struct {
		Relays []struct {
			Name  string `json:"name"`
			Relay struct {
				URL string `json:"url"`
			} `json:"relay"`
		} `json:"relays"`
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	names := map[string]bool{}
	for _, r := range st.Relays {
		names[r.Name] = true
	}
	if !names["relay 127.0.0.1:1"] || !names["relay 127.0.0.1:1 #2"] {
		t.Errorf("relay names %v, want relay 127.0.0.1:1 and #2", names)
	}
	if strings.Contains(string(raw), "SECRETPATHTOKEN") {
		t.Errorf("the admin API shows the URL's path: %s", raw)
	}
	loadConfig(t, fmt.Sprintf("http://localhost:%d {\n\trespond ok\n}\n", httpPort))
	warned := false
	for _, e := range readLog(t, logPath) {
		if strings.Contains(e.raw, "SECRETPATHTOKEN") {
			t.Errorf("a log line holds the URL's path: %s", e.raw)
		}
		warned = warned || strings.HasPrefix(e.str("msg"), "open signing relay")
	}
	if !warned {
		t.Error("no open signing relay warning for a signing relay anyone can reach")
	}
}
