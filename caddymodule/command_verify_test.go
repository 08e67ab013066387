package caddymodule

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/certmagic"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

// TestVerifyCommandStaleCapture (issue 12, item 7): a stale capture still
// has its signature checked, the report says whether it matches and
// suggests --at with the capture's own timestamp; with --at the report
// speaks of --at, not of this machine's clock, in the timestamp line and
// in a future-timestamp failure; --at takes RFC 3339 too.
func TestVerifyCommandStaleCapture(t *testing.T) {
	useCLIStorage(t, &certmagic.FileStorage{Path: t.TempDir()}) // no key: secrets named by file
	secret := "kX3vQ9mR2pL8nT5wY7zB4cF6"
	path := writeSecret(t, secret)
	other := writeSecret(t, "zzX3vQ9mR2pL8nT5wY7zB4cF")
	s, _ := preset.Get("slack", preset.Options{})
	body := []byte("token=abc&team_id=T1")
	capture := rawCapture(signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, Time: time.Unix(1_700_000_000, 0)}), body)
	cases := []struct {
		name string
		args []string
		pass bool
		want []string
		not  []string
	}{
		{"stale, right secret", nil, false, []string{
			"s behind this machine's clock (tolerance 5m0s)",
			"FAIL: stale_timestamp X-Slack-Request-Timestamp",
			"signature: checked without the timestamp, it matches under secret file " + path + ": only the timestamp fails",
			"hint:      to check it as of when it was sent: add --at 1700000000",
		}, []string{"PASS"}},
		{"stale, wrong secret", []string{"--secret-file", other}, false, []string{
			"signature: checked without the timestamp, it fails too: wrong_signature",
			"no common change to the body explains the mismatch",
			"add --at 1700000000",
		}, []string{"it matches"}},
		{"stale as of --at", []string{"--at", "1700001000"}, false, []string{
			"1000 s behind --at (tolerance 5m0s)", "it matches", "add --at 1700000000",
		}, []string{"this machine's clock"}},
		{"future as of --at", []string{"--at", "1699999000"}, false, []string{
			"1000 s ahead of --at (tolerance 5m0s)",
			"FAIL: future_timestamp X-Slack-Request-Timestamp: timestamp is ahead of --at by more than the tolerance of 5m0s",
			"it matches", "add --at 1700000000",
		}, []string{"this machine's clock", "this server's clock"}},
		{"--at RFC 3339", []string{"--at", "2023-11-14T22:13:20Z"}, true, []string{"0 s behind --at", "PASS"}, []string{"hint"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"verify", "--scheme", "slack"}, c.args...)
			if !contains(args, "--secret-file") {
				args = append(args, "--secret-file", path)
			}
			out, stderr, err := runAll(t, capture, args...)
			if c.pass != (err == nil) || (err != nil && !errors.Is(err, errUnverified)) {
				t.Fatalf("err = %v, want pass=%v\n%s%s", err, c.pass, out, stderr)
			}
			if strings.Contains(stderr, "Error:") {
				t.Errorf("a second verdict on stderr: %q", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
			for _, n := range c.not {
				if strings.Contains(out, n) {
					t.Errorf("output has %q:\n%s", n, out)
				}
			}
		})
	}
	if _, _, err := runAll(t, capture, "verify", "--scheme", "slack", "--secret-file", path, "--at", "noon"); err == nil || !strings.Contains(err.Error(), `--at "noon": give a Unix time`) {
		t.Errorf("--at noon: %v", err)
	}
}

// TestVerifyCommandSuggestsScheme (issue 12, item 7): when the capture has
// none of the scheme's signature headers, verify names the default if
// --scheme was not given, and the presets whose headers the capture has.
func TestVerifyCommandSuggestsScheme(t *testing.T) {
	path := writeSecret(t, "kX3vQ9mR2pL8nT5wY7zB4cF6")
	body := []byte(`{"zen":"hi"}`)
	github := rawCapture(http.Header{"X-Hub-Signature-256": {"sha256=00"}, "X-Github-Delivery": {"1"}}, body)
	legacy := rawCapture(http.Header{"X-Hub-Signature": {"sha1=00"}}, body)
	svix := rawCapture(http.Header{"Svix-Signature": {"v1,AA=="}, "Svix-Id": {"msg_1"}, "Svix-Timestamp": {"1700000000"}}, body)
	unknown := rawCapture(http.Header{"X-Acme-Signature": {"00"}}, body)
	cases := []struct {
		name, capture string
		args          []string
		want          string
	}{
		{"no --scheme", github, nil, "hint:      no --scheme given, so it was checked as standard, the default; the capture has X-Hub-Signature-256: try --scheme github"},
		{"wrong --scheme", github, []string{"--scheme", "slack"}, "hint:      the capture has no signature header of scheme slack, but has X-Hub-Signature-256: try --scheme github"},
		{"two candidates", legacy, []string{"--scheme", "stripe"}, "but has X-Hub-Signature: try --scheme bitbucket or --scheme github --legacy-sha1"},
		// Every preset under Svix's names is suggested (clerk, resend, ...).
		{"svix headers", svix, nil, "the capture has Svix-Signature: try --scheme "},
		{"no preset", unknown, []string{"--scheme", "github"}, "the capture has no signature header of scheme github, nor of any other preset: for another sender, describe its scheme with --scheme hmac or token and --header <name>"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, _, err := runAll(t, c.capture, append([]string{"verify", "--secret-file", path}, c.args...)...)
			if !errors.Is(err, errUnverified) || !strings.Contains(out, c.want) {
				t.Errorf("err=%v, output lacks %q:\n%s", err, c.want, out)
			}
			if c.capture == svix && !strings.Contains(out, "--scheme svix") {
				t.Errorf("svix not suggested:\n%s", out)
			}
		})
	}
	// The scheme's own header present: no scheme hint, whatever fails.
	out, _, _ := runAll(t, github, "verify", "--scheme", "github", "--secret-file", path)
	if strings.Contains(out, "try --scheme") || strings.Contains(out, "default") {
		t.Errorf("a hint for a capture of the right scheme:\n%s", out)
	}
}

// useCLIStorage points the CLI's default storage at st for the test.
func useCLIStorage(t *testing.T, st certmagic.Storage) {
	t.Helper()
	saved := cliStorage
	cliStorage = func() certmagic.Storage { return st }
	t.Cleanup(func() { cliStorage = saved })
}
