package integration

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
)

// TestJSONAndCaddyfileValidateAlike: every rule of a webhook_verify or
// webhook_sign configuration refuses a JSON config with the same words as
// a Caddyfile, and the Caddyfile's error names the line of the option
// (marked <-). A JSON config is what the admin API, autosave.json and
// config management tools load, so it must not get around a rule.
func TestJSONAndCaddyfileValidateAlike(t *testing.T) {
	const secret = "{env.HG_VALIDATE_SECRET}"
	t.Setenv("HG_VALIDATE_SECRET", "validate-Secret-0123456789")
	sec := func(more ...any) map[string]any {
		m := map[string]any{"value": secret}
		for i := 0; i+1 < len(more); i += 2 {
			m[more[i].(string)] = more[i+1]
		}
		return m
	}
	verify := func(scheme string, kv ...any) map[string]any {
		h := map[string]any{"handler": "webhook_verify", "scheme": scheme, "secrets": []any{sec()}}
		for i := 0; i+1 < len(kv); i += 2 {
			h[kv[i].(string)] = kv[i+1]
		}
		return h
	}
	sign := func(scheme string, kv ...any) map[string]any {
		h := verify(scheme, kv...)
		h["handler"] = "webhook_sign"
		return h
	}
	for _, c := range []struct {
		name      string
		caddyfile string // the directive; the line with <- is the one named
		json      map[string]any
		want      string // in both errors
	}{
		{
			name:      "tolerance_without_timestamp",
			caddyfile: "webhook_verify github " + secret + " {\n\t\ttolerance 10m # <-\n\t}",
			json:      verify("github", "tolerance", "10m"),
			want:      "tolerance has no effect: scheme github carries no signed timestamp",
		},
		{
			name:      "negative_tolerance",
			caddyfile: "webhook_verify stripe " + secret + " {\n\t\ttolerance -5m # <-\n\t}",
			json:      verify("stripe", "tolerance", "-5m"),
			want:      "tolerance must not be negative",
		},
		{
			name:      "no_secret",
			caddyfile: "webhook_verify github # <-",
			json:      map[string]any{"handler": "webhook_verify", "scheme": "github"},
			want:      "no secret is configured",
		},
		{
			name:      "sign_no_secret",
			caddyfile: "webhook_sign standard # <-",
			json:      map[string]any{"handler": "webhook_sign", "scheme": "standard"},
			want:      "no secret is configured: generate one with",
		},
		{
			name:      "max_body_range",
			caddyfile: "webhook_verify github " + secret + " {\n\t\tmax_body 2TiB # <-\n\t}",
			json:      verify("github", "max_body", int64(2<<40)),
			want:      "max_body 2199023255552 is out of range",
		},
		{
			name:      "buffer_memory_range",
			caddyfile: "webhook_sign standard " + secret + " {\n\t\tbuffer_memory 2TiB # <-\n\t}",
			json:      sign("standard", "buffer_memory", int64(2<<40)),
			want:      "buffer_memory 2199023255552 is out of range",
		},
		{
			name:      "negative_read_timeout",
			caddyfile: "webhook_verify github " + secret + " {\n\t\tread_timeout -5s # <-\n\t}",
			json:      verify("github", "read_timeout", "-5s"),
			want:      "read_timeout -5s is negative",
		},
		{
			name:      "duplicate_labels",
			caddyfile: "webhook_verify github {\n\t\tsecret " + secret + " label a\n\t\tsecret " + secret + " label a # <-\n\t}",
			json:      verify("github", "secrets", []any{sec("label", "a"), sec("label", "a")}),
			want:      `secret 2: label "a" is already the label of secret 1`,
		},
		{
			name:      "sign_duplicate_labels",
			caddyfile: "webhook_sign github {\n\t\tsecret " + secret + " label a\n\t\tsecret " + secret + " label a # <-\n\t}",
			json:      sign("github", "secrets", []any{sec("label", "a"), sec("label", "a")}),
			want:      `secret 2: label "a" is already the label of secret 1`,
		},
		{
			name:      "not_after_format",
			caddyfile: "webhook_verify github {\n\t\tsecret " + secret + " not_after tomorrow # <-\n\t}",
			json:      verify("github", "secrets", []any{sec("not_after", "tomorrow")}),
			want:      `secret 1: not_after "tomorrow" is not an RFC 3339 time`,
		},
		{
			name:      "empty_secret",
			caddyfile: "webhook_verify github {\n\t\tsecret \"\" # <-\n\t}",
			json:      verify("github", "secrets", []any{map[string]any{"value": ""}}),
			want:      "secret 1 is empty",
		},
		{
			name:      "keep_header",
			caddyfile: "webhook_sign standard " + secret + " {\n\t\tkeep_header Authorization\n\t\tkeep_header X-Api-Key # <-\n\t}",
			json:      sign("standard", "keep_headers", []string{"Authorization", "X-Api-Key"}),
			want:      `keep_header "X-Api-Key": only Authorization, Cookie, Proxy-Authorization are removed`,
		},
		{
			name:      "legacy_sha1_not_github",
			caddyfile: "webhook_verify stripe " + secret + " {\n\t\tlegacy_sha1 # <-\n\t}",
			json:      verify("stripe", "legacy_sha1", true),
			want:      "legacy_sha1 is only for the github scheme",
		},
		{
			name:      "hmac_without_header",
			caddyfile: "webhook_verify hmac " + secret + " # <-",
			json:      verify("hmac"),
			want:      "scheme hmac needs a header",
		},
		{
			name:      "preset_with_generic_field",
			caddyfile: "webhook_verify github " + secret + " { # <-\n\t\theader X-Sig\n\t}",
			json:      verify("github", "header", "X-Sig"),
			want:      "scheme github is a preset",
		},
		{
			name:      "token_with_algorithm",
			caddyfile: "webhook_verify token " + secret + " { # <-\n\t\theader X-Token\n\t\talgorithm sha1\n\t}",
			json:      verify("token", "header", "X-Token", "algorithm", "sha1"),
			want:      "scheme token takes only header and id_header",
		},
		{
			name:      "replay_redis_without_address",
			caddyfile: "webhook_verify github " + secret + " {\n\t\treplay redis # <-\n\t}",
			json:      verify("github", "replay", map[string]any{"store": "redis"}),
			want:      "replay redis needs an address",
		},
		{
			name:      "replay_memory_with_address",
			caddyfile: "webhook_verify github " + secret + " {\n\t\treplay {\n\t\t\taddress 127.0.0.1:6379 # <-\n\t\t}\n\t}",
			json:      verify("github", "replay", map[string]any{"address": "127.0.0.1:6379"}),
			want:      "are for replay redis",
		},
		{
			name:      "replay_unsigned",
			caddyfile: "webhook_verify github {\n\t\tinsecure_unsigned\n\t\treplay # <-\n\t}",
			json:      map[string]any{"handler": "webhook_verify", "scheme": "github", "insecure_unsigned": true, "replay": map[string]any{}},
			want:      "replay needs verified requests",
		},
		{
			name:      "replay_window_short",
			caddyfile: "webhook_verify standard " + secret + " {\n\t\treplay {\n\t\t\twindow 5m # <-\n\t\t}\n\t}",
			json:      verify("standard", "replay", map[string]any{"window": "5m"}),
			want:      "replay window 5m0s is shorter than twice the tolerance (5m0s)",
		},
		{
			name:      "replay_store_unknown",
			caddyfile: "webhook_verify github " + secret + " {\n\t\treplay disk # <-\n\t}",
			json:      verify("github", "replay", map[string]any{"store": "disk"}),
			want:      `replay store "disk"`,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := globalOptions + fmt.Sprintf("\nhttp://localhost:%d {\n\t%s\n\trespond ok\n}\n", httpPort, c.caddyfile)
			_, adaptErr := adapt(t, cfg)
			if adaptErr == nil {
				t.Fatalf("Caddyfile adapted without error:\n%s", cfg)
			}
			wantAdaptError(t, cfg, c.want)

			jsonErr := validateJSON(t, c.json)
			if jsonErr == nil {
				t.Fatalf("JSON config %v validated without error", c.json)
			}
			if !strings.Contains(jsonErr.Error(), c.want) {
				t.Errorf("JSON error %q does not contain %q", jsonErr, c.want)
			}
			// The same words, not only the same gist.
			if a, j := handlerError(adaptErr.Error()), handlerError(jsonErr.Error()); a != j {
				t.Errorf("the Caddyfile and JSON errors differ:\n  Caddyfile: %s\n  JSON:      %s", a, j)
			}
		})
	}
}

// handlerError is the part of a load or adapt error that the handler
// wrote: from "webhook_verify <scheme>: " to the end, without the
// Caddyfile's ", at Caddyfile:N" and import chain.
var handlerErrorRE = regexp.MustCompile(`webhook_(verify|sign) [a-z0-9]+: .*?(, at Caddyfile:\d+.*)?$`)

func handlerError(msg string) string {
	m := handlerErrorRE.FindString(msg)
	if i := strings.Index(m, ", at Caddyfile:"); i >= 0 {
		m = m[:i]
	}
	return m
}

// validateJSON provisions a config whose one route has handler h, as
// `caddy validate` does (nothing listens), and returns its error.
func validateJSON(t *testing.T, h map[string]any) error {
	t.Helper()
	cfg := map[string]any{
		"admin": map[string]any{"disabled": true},
		"apps": map[string]any{"http": map[string]any{"servers": map[string]any{"srv0": map[string]any{
			"listen":          []string{fmt.Sprintf(":%d", httpPort)},
			"automatic_https": map[string]any{"disable": true},
			"routes":          []any{map[string]any{"handle": []any{h}}},
		}}}},
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var c caddy.Config
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return caddy.Validate(&c)
}
