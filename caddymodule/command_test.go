package caddymodule

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// run executes a webhook subcommand the way the CLI does.
func run(t *testing.T, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := webhookRoot()
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	err := cmd.Execute()
	return out.String(), err
}

func writeSecret(t *testing.T, secret string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSecretCommand(t *testing.T) {
	out, err := run(t, "", "secret", "--scheme", "standard")
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(out)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) != 32 {
		t.Fatalf("standard secret %q: want whsec_ + base64 of 32 bytes", secret)
	}
	out2, _ := run(t, "", "secret", "--scheme", "standard")
	if out2 == out {
		t.Fatal("two generated secrets are equal")
	}
	out, err = run(t, "", "secret", "--scheme", "github", "--bytes", "48")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimSpace(out))
	if err != nil || len(raw) != 48 {
		t.Fatalf("github secret %q: want URL-safe base64 of 48 bytes", out)
	}
	if !signer.CheckSecret(strings.TrimSpace(out)).OK() {
		t.Fatal("a generated secret fails our own check")
	}
	if _, err := run(t, "", "secret", "--bytes", "8"); err == nil {
		t.Fatal("8 random bytes accepted")
	}
}

func TestCheckSecretCommand(t *testing.T) {
	cases := []struct {
		secret, rule string
		ok           bool
	}{
		{"kX3vQ9mR2pL8nT5wY7zB4cF6", "", true},
		{"short1A", "FAIL length", false},
		{"aaaaaaaaaaaaaaaaaaaa", "FAIL variety", false},
		{"Password1234567890!", "FAIL common", false},
		{"qwertyuiop123456789", "FAIL common", false},
		{"webhook-secret-2024", "FAIL common", false},
	}
	for _, c := range cases {
		out, err := run(t, c.secret+"\n", "check-secret")
		if c.ok != (err == nil) || !strings.Contains(out, c.rule) || !strings.Contains(out, "entropy") {
			t.Errorf("check-secret %q: err=%v out=\n%s", c.secret, err, out)
		}
		if strings.Contains(out, c.secret) {
			t.Errorf("check-secret echoes the secret")
		}
	}
	// A password in base64 or hex is that password (finding 1 of the
	// binary review): whatever the scheme takes it as a string.
	for _, secret := range []string{"UGFzc3dvcmQxMjM0NTY3ODkwIQ==", "50617373776f72643132333435363738393021"} {
		for _, scheme := range []string{"", "github", "stripe"} {
			args := []string{"check-secret"}
			if scheme != "" {
				args = append(args, "--scheme", scheme)
			}
			out, err := run(t, secret+"\n", args...)
			if err == nil || !strings.Contains(out, "FAIL encoded") || !strings.Contains(out, "breaks rule common") || strings.Contains(out, "strong enough") {
				t.Errorf("check-secret --scheme %q, encoded password: err=%v out=\n%s", scheme, err, out)
			}
		}
	}
}

// TestCheckSecretShortKey (issue 12): a whsec_ key of 12 to 15 random
// bytes fails check-secret --scheme standard or svix on its length (24
// bytes at least), though the bytes look random.
func TestCheckSecretShortKey(t *testing.T) {
	for n := 12; n <= 15; n++ {
		for _, scheme := range []string{"standard", "svix"} {
			out, err := run(t, shortKey(n)+"\n", "check-secret", "--scheme", scheme)
			if err == nil || !strings.Contains(out, "FAIL length") || strings.Contains(out, "strong enough") {
				t.Errorf("check-secret --scheme %s, key of %d bytes: err=%v out=\n%s", scheme, n, err, out)
			}
			if !strings.Contains(out, "ok   random") {
				t.Errorf("key of %d bytes: the test key should fail on length alone:\n%s", n, out)
			}
		}
	}
}

func TestSignCommandPrintsAndSends(t *testing.T) {
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	path := writeSecret(t, secret)
	body := `{"event":"ping"}`
	out, err := run(t, body, "sign", "--scheme", "standard", "--secret-file", path, "--id", "msg_1")
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, value, _ := strings.Cut(line, ": ")
		h.Add(name, value)
	}
	s, _ := preset.Get("standard", preset.Options{})
	key, _ := s.DecodeSecret(secret)
	if _, err := verifier.Verify(s, h, []byte(body), []verifier.Key{{Secret: key}}, s.Tolerance, time.Now()); err != nil {
		t.Fatalf("printed headers do not verify: %v\n%s", err, out)
	}

	var got []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, _ = io.ReadAll(r.Body)
		if _, err := verifier.Verify(s, r.Header, got, []verifier.Key{{Secret: key}}, s.Tolerance, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	if _, err := run(t, body, "sign", "--scheme", "standard", "--secret-file", path, "--send", srv.URL); err == nil {
		t.Fatal("--send to a self-signed receiver succeeded without --insecure")
	}
	out, err = run(t, body, "sign", "--scheme", "standard", "--secret-file", path, "--send", srv.URL, "--insecure")
	if err != nil || !strings.Contains(out, "200 OK") || string(got) != body {
		t.Fatalf("--send --insecure: err=%v out=%q receiver got %q", err, out, got)
	}
	if _, err := run(t, body, "sign", "--scheme", "standard", "--secret-env", "HG_UNSET_VAR"); err == nil {
		t.Fatal("an unset --secret-env was accepted")
	}
}

func TestVerifyCommandExplains(t *testing.T) {
	secret := "kX3vQ9mR2pL8nT5wY7zB4cF6"
	path := writeSecret(t, secret)
	other := writeSecret(t, "zzX3vQ9mR2pL8nT5wY7zB4cF")
	s, _ := preset.Get("slack", preset.Options{})
	now := time.Unix(1_700_000_000, 0)
	body := []byte("token=abc&team_id=T1\n")
	h := signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, Time: now})
	at := "1700000000"
	cases := []struct {
		name    string
		capture string
		args    []string
		pass    bool
		want    []string
	}{
		{"pass", rawCapture(h, body), nil, true, []string{"PASS", "sha256 ", "21 bytes"}},
		{"trailing newline added", rawCapture(h, append(append([]byte(nil), body...), '\n')), nil, false, []string{"wrong_signature", "without its last trailing newline"}},
		{"wrong secret", rawCapture(h, body), []string{"--secret-file", other}, false, []string{"wrong_signature", "1 tried", "no common change"}},
		{"missing header", rawCapture(http.Header{"X-Slack-Request-Timestamp": {at}}, body), nil, false, []string{"X-Slack-Signature: absent", "missing_header"}},
		{"malformed", rawCapture(http.Header{"X-Slack-Signature": {"v0=zz"}, "X-Slack-Request-Timestamp": {at}}, body), nil, false, []string{"malformed_header"}},
		{"stale", rawCapture(h, body), []string{"--at", "1700001000"}, false, []string{"1000 s behind", "tolerance 5m0s", "stale_timestamp"}},
		{"json capture", `{"method":"POST","url":"/slack","headers":{"X-Slack-Signature":"` + h.Get("X-Slack-Signature") + `","X-Slack-Request-Timestamp":["` + at + `"]},"body_base64":"` + base64.StdEncoding.EncodeToString(body) + `"}`, nil, true, []string{"PASS"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"verify", "--scheme", "slack"}, c.args...)
			if !contains(args, "--secret-file") {
				args = append(args, "--secret-file", path)
			}
			if !contains(args, "--at") {
				args = append(args, "--at", at)
			}
			out, err := run(t, c.capture, args...)
			if c.pass != (err == nil) || (err != nil && !errors.Is(err, errUnverified)) {
				t.Fatalf("err = %v, want pass=%v\n%s", err, c.pass, out)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			sig := s.Encode(s.Digest([]byte(secret), "", at, body))
			if strings.Contains(out, secret) || strings.Contains(out, sig) {
				t.Fatal("output contains the secret or the expected signature")
			}
		})
	}
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// TestSignCommandDoesNotFollowRedirects: --send to a receiver that answers
// 307 to a second server must not re-send the signed body there (a 307
// keeps method, body and headers); the output names the Location so the
// user can decide, and the command fails.
func TestSignCommandDoesNotFollowRedirects(t *testing.T) {
	path := writeSecret(t, "gl-"+strings.Repeat("kX3vQ9mR", 3))
	var elsewhere []string
	second := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		elsewhere = append(elsewhere, r.Header.Get("X-Gitlab-Token")+" "+string(b))
	}))
	defer second.Close()
	target := second.URL + "/stolen"
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, http.StatusTemporaryRedirect)
	}))
	defer first.Close()

	out, err := run(t, `{"event":"ping"}`, "sign", "--scheme", "gitlab", "--secret-file", path, "--send", first.URL)
	if len(elsewhere) != 0 {
		t.Fatalf("the redirect was followed: the second server got %d request(s)", len(elsewhere))
	}
	if err == nil {
		t.Errorf("a 307 answer counts as success")
	}
	if !strings.Contains(out, "307") || !strings.Contains(out, "Location: "+target) {
		t.Errorf("output does not give the status and the Location %s:\n%s", target, out)
	}
	if strings.Contains(out, "kX3vQ9mR") {
		t.Errorf("output holds the token:\n%s", out)
	}
}

// TestCommandsRefuseBlankSecrets: a secret file of blanks gives a key
// anyone can compute; sign and verify refuse it, as a config load does.
func TestCommandsRefuseBlankSecrets(t *testing.T) {
	for _, blank := range []string{"   ", "\n\n", "\t \t"} {
		path := writeSecret(t, blank)
		if _, err := run(t, "{}", "sign", "--scheme", "github", "--secret-file", path); err == nil || !strings.Contains(err.Error(), "whitespace") {
			t.Errorf("sign with a secret of %q: %v, want a refusal", blank, err)
		}
	}
}

// rawCapture is a captured Slack request as raw HTTP/1.1, for verify.
func rawCapture(h http.Header, body []byte) string {
	var b strings.Builder
	b.WriteString("POST /slack HTTP/1.1\r\nHost: example\r\n")
	h.Write(&b)
	b.WriteString("\r\n")
	b.Write(body)
	return b.String()
}

// webhookRoot is the webhook command on its own, as caddycmd mounts it.
func webhookRoot() *cobra.Command {
	cmd := &cobra.Command{Use: "webhook", SilenceUsage: true, SilenceErrors: true}
	addWebhookCommands(cmd)
	return cmd
}
