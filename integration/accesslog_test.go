package integration

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestAccessLogAndTokens (finding 9): Caddy's access log records request
// headers as they arrived, before any handler runs, so a token route's
// token (valid or not) lands there even though hookguard strips it before
// the app; at DEBUG, Caddy's error log records the headers of every
// rejected request too. The load warns about it, naming the filter. With
// the filters the README and Caddyfile.example give (on the site's log and
// on the default log), no log holds the token or the signature header.
func TestAccessLogAndTokens(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	dir := t.TempDir()
	token, wrong, ghSecret := rawSecret(t), rawSecret(t), rawSecret(t)
	const filter = `format filter {
			request>headers>X-Gitlab-Token delete
			request>headers>X-Hub-Signature-256 delete
		}`
	body := []byte(`{"object_kind":"push"}`)
	ghHeaders := presetSigner(t, "github")(ghSecret, body, "d-1", time.Now())
	sig := ghHeaders.Get("X-Hub-Signature-256")

	for _, filtered := range []bool{false, true} {
		name := map[bool]string{true: "filtered", false: "plain"}[filtered]
		t.Run(name, func(t *testing.T) {
			accessPath := filepath.Join(dir, "access-"+name+".log")
			logPath := filepath.Join(dir, "caddy-"+name+".log")
			global, f := debugLogOptions(logPath), ""
			if filtered {
				f = filter
				global = strings.Replace(global, "level DEBUG\n", "level DEBUG\n\t\t"+filter+"\n", 1)
			}
			loadFullConfig(t, global+fmt.Sprintf(`http://localhost:%d {
	log {
		output file %s
		%s
	}
	handle /gitlab {
		webhook_verify gitlab %q
		reverse_proxy %s
	}
	handle /github {
		webhook_verify github %q
		reverse_proxy %s
	}
%s
}
`, httpPort, accessPath, f, token, up.addr(), ghSecret, up.addr(), errorsBlock))
			wantStatus(t, send(t, delivery{Path: "/gitlab", Body: body, Header: http.Header{"X-Gitlab-Token": {token}}}), http.StatusOK)
			wantStatus(t, send(t, delivery{Path: "/gitlab", Body: body, Header: http.Header{"X-Gitlab-Token": {wrong}}}), http.StatusUnauthorized)
			wantStatus(t, send(t, delivery{Path: "/github", Body: body, Header: ghHeaders}), http.StatusOK)

			access, caddyLog := readFile(t, accessPath), readFile(t, logPath)
			if !strings.Contains(access, `"uri":"/gitlab"`) {
				t.Fatalf("no access log line for /gitlab:\n%s", access)
			}
			for what, v := range map[string]string{"valid token": token, "invalid token": wrong, "signature": sig} {
				if got := strings.Contains(access, v); got == filtered {
					t.Errorf("access log holds the %s: %v, want %v", what, got, !filtered)
				}
			}
			// At DEBUG the error log records the rejected request's
			// headers, the invalid token among them.
			if got := strings.Contains(caddyLog, wrong); got == filtered {
				t.Errorf("Caddy's own log holds the invalid token: %v, want %v", got, !filtered)
			}
			if strings.Contains(caddyLog, token) {
				t.Errorf("Caddy's own log holds the valid token")
			}
			// The load warns about the token route either way: the
			// handler cannot see whether a filter is there.
			if !strings.Contains(caddyLog, "request>headers>X-Gitlab-Token delete") {
				t.Errorf("no load warning naming the access-log filter for the token route")
			}
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestAccessLogWebhookKey: as the README shows, log_append puts the label
// of the secret that matched ({http.webhook.key}) on the request's access
// log line (hookguard itself logs no line for a verified webhook), even
// though it stands before webhook_verify; a refused request's line has
// null there, and an unlabeled secret is named by its fingerprint.
func TestAccessLogWebhookKey(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)
	accessPath := filepath.Join(t.TempDir(), "access.log")
	labeled, unlabeled := rawSecret(t), rawSecret(t)
	loadConfig(t, fmt.Sprintf(`http://localhost:%d {
	log {
		output file %s
	}
	handle /github {
		log_append webhook_key {http.webhook.key}
		webhook_verify github {
			secret %q label 2026-q4
			secret %q
		}
		reverse_proxy %s
	}
}
`, httpPort, accessPath, labeled, unlabeled, up.addr()))
	sign := presetSigner(t, "github")
	body := []byte(`{"zen":"Keep it logically awesome."}`)
	for _, d := range []struct {
		secret, id string
		status     int
	}{
		{labeled, "d-labeled", http.StatusOK},
		{unlabeled, "d-unlabeled", http.StatusOK},
		{rawSecret(t), "d-forged", http.StatusUnauthorized},
	} {
		wantStatus(t, send(t, delivery{Path: "/github", Body: body, Header: sign(d.secret, body, d.id, time.Now())}), d.status)
	}

	// The access log is written once the response is; wait for 3 lines.
	var lines []map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; {
		lines = nil
		for _, l := range strings.Split(strings.TrimSpace(readFile(t, accessPath)), "\n") {
			var entry map[string]any
			if err := json.Unmarshal([]byte(l), &entry); err == nil {
				lines = append(lines, entry)
			}
		}
		if len(lines) >= 3 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(lines) != 3 {
		t.Fatalf("%d access log lines, want 3:\n%s", len(lines), readFile(t, accessPath))
	}
	// Each line by its request's delivery id, whatever order they were
	// written in.
	key := func(id string) any {
		for _, l := range lines {
			req, _ := l["request"].(map[string]any)
			headers, _ := req["headers"].(map[string]any)
			if ids, _ := headers["X-Github-Delivery"].([]any); len(ids) == 1 && ids[0] == id {
				v, ok := l["webhook_key"]
				if !ok {
					t.Errorf("the access log line of %s has no webhook_key: %v", id, l)
				}
				return v
			}
		}
		t.Errorf("no access log line for delivery %s", id)
		return nil
	}
	if got := key("d-labeled"); got != "2026-q4" {
		t.Errorf("webhook_key of the labeled secret's request = %v, want 2026-q4", got)
	}
	if got, _ := key("d-unlabeled").(string); !strings.HasPrefix(got, "fp-") {
		t.Errorf("webhook_key of the unlabeled secret's request = %q, want its fingerprint fp-…", got)
	}
	if got := key("d-forged"); got != nil {
		t.Errorf("webhook_key of a refused request = %v, want null", got)
	}
}
