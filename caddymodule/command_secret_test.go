package caddymodule

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/hookguard/hookguard/signer"
)

// runAll executes a webhook subcommand under a root like Caddy's (usage
// silenced, errors not: cobra prints a returned error as "Error: ..."),
// and returns stdout, stderr and the error.
func runAll(t *testing.T, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := &cobra.Command{Use: "caddy", SilenceUsage: true}
	webhook := &cobra.Command{Use: "webhook"}
	addWebhookCommands(webhook)
	root.AddCommand(webhook)
	root.SetArgs(append([]string{"webhook"}, args...))
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// TestSecretCommandGenericSchemes (issue 12, item 5): secret and
// check-secret take --scheme hmac and token without a header: a strong
// random secret, judged by the generic rules.
func TestSecretCommandGenericSchemes(t *testing.T) {
	for _, scheme := range []string{"hmac", "token"} {
		out, stderr, err := runAll(t, "", "secret", "--scheme", scheme)
		if err != nil {
			t.Fatalf("secret --scheme %s: %v\n%s", scheme, err, stderr)
		}
		secret := strings.TrimSpace(out)
		raw, err := base64.RawURLEncoding.DecodeString(secret)
		if err != nil || len(raw) != signer.DefaultSecretBytes {
			t.Errorf("secret --scheme %s = %q: want URL-safe base64 of %d bytes", scheme, secret, signer.DefaultSecretBytes)
		}
		if !signer.CheckSecret(secret).OK() {
			t.Errorf("secret --scheme %s fails the generic rules", scheme)
		}
		out, stderr, err = runAll(t, secret+"\n", "check-secret", "--scheme", scheme)
		if err != nil || !strings.Contains(out, "strong enough") {
			t.Errorf("check-secret --scheme %s of a generated secret: err=%v\n%s%s", scheme, err, out, stderr)
		}
		out, _, err = runAll(t, "Password1234567890!\n", "check-secret", "--scheme", scheme)
		if !errors.Is(err, errWeak) || !strings.Contains(out, "FAIL common") {
			t.Errorf("check-secret --scheme %s of a password: err=%v\n%s", scheme, err, out)
		}
	}
	if _, _, err := runAll(t, "", "secret", "--scheme", "nosuch"); err == nil || !strings.Contains(err.Error(), "unknown scheme") {
		t.Errorf("secret --scheme nosuch: %v", err)
	}
}

// TestSecretAdviceFitsScheme (issue 12, item 8): the advice after secret
// names --scheme, puts a secret the receiver chooses (github, hmac) in
// webhook_verify first, with the header a generic scheme needs, and says
// of a scheme whose senders make their own secret (stripe, standard) that
// this one is for signing.
func TestSecretAdviceFitsScheme(t *testing.T) {
	cases := []struct {
		scheme string
		want   []string
		not    []string
	}{
		{"github", []string{"--scheme github >", "give it to the sender (as the Secret of the webhook's settings)", "webhook_verify github {file./etc/caddy/webhook.secret}", "webhook_sign github {file."}, nil},
		{"hmac", []string{"--scheme hmac >", "webhook_verify hmac {file./etc/caddy/webhook.secret} {\n          header X-Signature\n      }", "webhook_sign hmac"}, nil},
		{"token", []string{"webhook_verify token {file./etc/caddy/webhook.secret} {\n          header X-Token"}, nil},
		{"stripe", []string{"--scheme stripe >", "a stripe sender makes its own secret; put the one it gives you in webhook_verify stripe, not this one", "webhook_sign stripe {file."}, []string{"webhook_verify stripe {file."}},
		{"standard", []string{"a standard sender makes its own secret", "webhook_sign standard {file."}, nil},
	}
	for _, c := range cases {
		out, stderr, err := runAll(t, "", "secret", "--scheme", c.scheme)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stderr, strings.TrimSpace(out)) {
			t.Errorf("%s: the advice repeats the secret", c.scheme)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: advice lacks %q:\n%s", c.scheme, w, stderr)
			}
		}
		for _, n := range c.not {
			if strings.Contains(stderr, n) {
				t.Errorf("%s: advice has %q:\n%s", c.scheme, n, stderr)
			}
		}
		if !strings.Contains(stderr, "Another scheme: --scheme <name>") || !strings.Contains(stderr, "{env.WEBHOOK_SECRET}, not {$WEBHOOK_SECRET}") {
			t.Errorf("%s: advice does not name --scheme or the env form:\n%s", c.scheme, stderr)
		}
	}
}

// TestCheckSecretMessages (issue 12, item 8): an empty or blank secret is
// a clear error; a whsec_ key that is not base64 says so; the rule common
// says what its count is; a weak secret ends in one line that names the
// rules and `secret --scheme`, and cobra adds no "Error:" line.
func TestCheckSecretMessages(t *testing.T) {
	for stdin, want := range map[string]string{
		"":       "the secret is empty: nothing came on stdin",
		"\n":     "the secret is empty",
		"  \t\n": "the secret is only whitespace",
	} {
		out, stderr, err := runAll(t, stdin, "check-secret")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Count(stderr, "\n") != 1 || !strings.HasPrefix(stderr, "Error: ") || out != "" {
			t.Errorf("check-secret < %q: err=%v stdout=%q stderr=%q, want one error line %q", stdin, err, out, stderr, want)
		}
	}

	out, stderr, err := runAll(t, "whsec_!!!!notbase64\n", "check-secret", "--scheme", "standard")
	if !errors.Is(err, errWeak) || !strings.Contains(out, "FAIL length   not base64 after whsec_") || strings.Contains(out, "decoded bytes") {
		t.Errorf("check-secret of a whsec_ key that is not base64: err=%v\n%s", err, out)
	}
	if stderr != "" {
		t.Errorf("a weak secret gets a second verdict on stderr: %q", stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if last := lines[len(lines)-1]; last != "weak: breaks rule length and random; generate a strong one with `caddy webhook secret --scheme standard`" {
		t.Errorf("last line %q", last)
	}

	out, stderr, err = runAll(t, "Password1234567890!\n", "check-secret")
	if !errors.Is(err, errWeak) || stderr != "" {
		t.Errorf("check-secret of a password: err=%v stderr=%q", err, stderr)
	}
	for _, w := range []string{
		"only 1 other character is outside them, at least 12 needed (what a guesser must still guess",
		"weak: breaks rule common; generate a strong one with `caddy webhook secret --scheme <scheme>`",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("check-secret output lacks %q:\n%s", w, out)
		}
	}
	if n := strings.Count(out, "weak"); n != 1 {
		t.Errorf("%d verdicts:\n%s", n, out)
	}
}
