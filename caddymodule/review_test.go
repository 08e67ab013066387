package caddymodule

import (
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Tests of what the outside review of issue 9 found (F1-F6).

// TestOneHeaderCannotBeIDAndToken (F1): an id_header that is the token
// header would log the token, the secret itself, as a delivery id.
func TestOneHeaderCannotBeIDAndToken(t *testing.T) {
	for _, v := range []*WebhookVerify{
		{Scheme: "token", SchemeFields: SchemeFields{Header: "X-Token", IDHeader: "x-token"}, Secrets: []Secret{{Value: "tok-Secret-0123456789"}}},
		{Scheme: "hmac", SchemeFields: SchemeFields{Header: "X-Sig", IDHeader: "X_Sig"}, Secrets: []Secret{{Value: "hmac-Secret-0123456789"}}},
		{Scheme: "hmac", SchemeFields: SchemeFields{Header: "X-Sig", TimestampHeader: "X-Sig"}, Secrets: []Secret{{Value: "hmac-Secret-0123456789"}}},
	} {
		err := v.Validate()
		if err == nil || !strings.Contains(err.Error(), "is the signature header") {
			t.Errorf("%+v: Validate = %v, want one header refused in two roles", v.SchemeFields, err)
		}
	}
}

// TestReplayWindowAtLeastAMinute (F2): "window": 300 in JSON is 300ns,
// which forgets every delivery at once: refused, as any window under a
// minute is.
func TestReplayWindowAtLeastAMinute(t *testing.T) {
	for _, w := range []caddy.Duration{300, caddy.Duration(59e9)} {
		v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "{env.X}"}}, Replay: &Replay{Window: w}}
		if err := v.Validate(); err == nil || !strings.Contains(err.Error(), "shorter than a minute") {
			t.Errorf("window %v: Validate = %v, want refused", w, err)
		}
	}
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: "{env.X}"}}, Replay: &Replay{Window: caddy.Duration(60e9)}}
	if err := v.Validate(); err != nil {
		t.Errorf("window 1m: %v", err)
	}
}

// TestClipBoundsLoggedText (F3): a refusal's log line holds at most
// maxLogged bytes of the request's host and path.
func TestClipBoundsLoggedText(t *testing.T) {
	long := strings.Repeat("h", 20_000)
	if got := clip(long); len(got) > maxLogged+len("…(cut)") || !strings.HasSuffix(got, "(cut)") {
		t.Errorf("clip kept %d bytes", len(got))
	}
	if clip("example.com") != "example.com" {
		t.Error("clip changed a short string")
	}
}

// TestSecretParseErrorsDoNotEcho (F5): after a {$VAR} with a space is
// substituted, the rest of the secret is a token of its own; a parse
// error must not quote it.
func TestSecretParseErrorsDoNotEcho(t *testing.T) {
	const rest = "horse-Battery-Staple-xyz"
	for _, input := range []string{
		"webhook_verify github Tr0ub4dor&3 " + rest,
		"webhook_verify github {\n\tsecret Tr0ub4dor&3 " + rest + " label prod\n}",
		"webhook_verify github {\n\tsecret Tr0ub4dor&3 " + rest + "\n}",
	} {
		var v WebhookVerify
		err := v.UnmarshalCaddyfile(caddyfile.NewTestDispenser(input))
		if err == nil {
			t.Errorf("%q parsed", input)
			continue
		}
		if strings.Contains(err.Error(), rest) || strings.Contains(err.Error(), "Tr0ub4dor") {
			t.Errorf("error quotes the secret: %v", err)
		}
	}
	// A literal secret written in braces is not a placeholder's name.
	if _, ok := placeholderName("{Xk9#mQ2vL8pR4wZ7}"); ok {
		t.Error("{Xk9#mQ2vL8pR4wZ7} taken for a placeholder name, so echoed")
	}
	if _, ok := placeholderName("{env.WEBHOOK_SECRET}"); !ok {
		t.Error("{env.WEBHOOK_SECRET} not taken for a placeholder name")
	}
}

// TestLabelsUnique (F6): the final labels, given or generated, are
// unique, or one secret's figures would count another's.
func TestLabelsUnique(t *testing.T) {
	for name, v := range map[string]*WebhookVerify{
		"same secret twice": {Scheme: "github", Secrets: []Secret{{Value: "s3cret-For-Tests-0123"}, {Value: "s3cret-For-Tests-0123"}}},
		"given = generated": {Scheme: "github", Secrets: []Secret{{Value: "s3cret-For-Tests-0123", Label: "secret-2"}, {Value: "weak"}}},
	} {
		err := provision(t, v)
		if err == nil || !strings.Contains(err.Error(), "give each secret its own label") && !strings.Contains(err.Error(), "list each secret once") {
			t.Errorf("%s: Provision = %v, want refused", name, err)
		}
	}
}

// TestSendOutputIsPrintable (F7): a receiver's answer cannot drive the
// terminal; a plain-http --send off this machine is warned about.
func TestSendOutputIsPrintable(t *testing.T) {
	if got := printable("ok\x1b[2J\x07\nnext\tcol"); strings.ContainsAny(got, "\x1b\x07") || !strings.Contains(got, "\nnext\tcol") {
		t.Errorf("printable = %q", got)
	}
	for host, want := range map[string]bool{"localhost": true, "127.0.0.1": true, "::1": true, "app.localhost": true, "example.com": false, "10.0.0.1": false} {
		if isLoopbackHost(host) != want {
			t.Errorf("isLoopbackHost(%q) = %v", host, !want)
		}
	}
}

// TestPublicURLChecked (review M1, M2): public_url is scheme://host[:port]
// with a real port, and an error about it never quotes it (userinfo would
// be a password).
func TestPublicURLChecked(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://hooks.example.com":             true,
		"https://hooks.example.com:8443/":       true,
		"http://[::1]:8080":                     true,
		"https://hooks.example.com:99999":       false,
		"https://hooks.example.com:":            false,
		"https://hooks.example.com:0":           false,
		"https://user:SECRETPW9Lx2@h.example":   false,
		"https://h.example/path":                false,
		"https://h.example/?token=SECRETPW9Lx2": false,
		"ftp://h.example":                       false,
	} {
		v := &WebhookVerify{Scheme: "hmac", Secrets: []Secret{{Value: "s3cret-For-Tests-0123"}}, PublicURL: raw,
			SchemeFields: SchemeFields{Header: "X-Sig", SignedContent: "{url}|{body}"}}
		err := v.Validate()
		if (err == nil) != ok {
			t.Errorf("%s: Validate = %v, want ok %v", raw, err, ok)
		}
		if err != nil && strings.Contains(err.Error(), "SECRETPW9Lx2") {
			t.Errorf("%s: the error quotes it: %v", raw, err)
		}
	}
}

// TestSignRefusesVerifyOnly: a scheme no signer can imitate (Mailgun's
// signature is in the body) fails the load of a webhook_sign route.
func TestSignRefusesVerifyOnly(t *testing.T) {
	s := &WebhookSign{Scheme: "mailgun", Secrets: []Secret{{Value: "Wq8-vT3rZk1x-Pn5Ld7sYc2m-Hb9Ga4e"}}}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "cannot sign as Mailgun") {
		t.Errorf("webhook_sign mailgun: Validate = %v, want refused", err)
	}
}
