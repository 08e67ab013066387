package integration

import (
	"fmt"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddytest"
)

// adapt adapts a Caddyfile to JSON as `caddy adapt` does.
func adapt(t *testing.T, caddyfile string) ([]byte, error) {
	t.Helper()
	a := caddyconfig.GetAdapter("caddyfile")
	if a == nil {
		t.Fatal("no caddyfile adapter")
	}
	out, _, err := a.Adapt([]byte(caddyfile), nil)
	return out, err
}

// wantAdaptError fails the test unless cfg fails to adapt with an error
// that names the line marked "<-" and contains every one of want.
func wantAdaptError(t *testing.T, cfg string, want ...string) {
	t.Helper()
	_, err := adapt(t, cfg)
	if err == nil {
		t.Fatalf("adapted without error:\n%s", cfg)
	}
	msg := err.Error()
	if line := fmt.Sprintf("Caddyfile:%d", lineOf(t, cfg, "<-")); !strings.Contains(msg, line) {
		t.Errorf("error %q does not name %s", msg, line)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}

// TestCaddyfileErrors: mistakes in a webhook_verify block fail at adapt
// time with an error that names the Caddyfile line and says what to write.
// (Adapting needs no running Caddy, so this runs under -short too.)
func TestCaddyfileErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		// site is the site block; the line containing "<-" is the one the
		// error must name.
		site string
		want []string
	}{
		{
			name: "unknown_scheme",
			site: `
	webhook_verify githib {env.SECRET} # <-
`,
			want: []string{`unknown scheme "githib"`, "did you mean github or gitlab?", "webhook schemes", "hmac and token"},
		},
		{
			name: "missing_secret",
			site: `
	webhook_verify github # <-
`,
			want: []string{"no secret is configured", "webhook_verify github {env.WEBHOOK_SECRET}", "insecure_unsigned"},
		},
		{
			name: "missing_secret_block",
			site: `
	webhook_verify stripe { # <-
		tolerance 10m
	}
`,
			want: []string{"no secret is configured", "webhook_verify stripe {env.WEBHOOK_SECRET}"},
		},
		{
			name: "bad_tolerance",
			site: `
	webhook_verify stripe {env.SECRET} {
		tolerance soon # <-
	}
`,
			want: []string{`tolerance: "soon" is not a duration`, "5m"},
		},
		{
			name: "negative_tolerance",
			site: `
	webhook_verify stripe {env.SECRET} {
		tolerance -5m # <-
	}
`,
			want: []string{"tolerance must not be negative", "write e.g. 5m"},
		},
		{
			// Not "last one wins": a second max_body is a typo or a merge
			// gone wrong, and either value may be the one meant.
			name: "repeated_subdirective",
			site: `
	webhook_verify github {env.SECRET} {
		max_body 1MiB
		name hooks
		max_body 10MiB # <-
	}
`,
			want: []string{"max_body is given twice (first on line 11); give it once"},
		},
		{
			name: "repeated_secret_option",
			site: `
	webhook_verify github {
		secret {env.SECRET} label a label b # <-
	}
`,
			want: []string{"secret option label is given twice"},
		},
		{
			// A deliberate typo (.golangci.yml tells misspell).
			name: "unknown_subdirective",
			site: `
	webhook_verify github {env.SECRET} {
		tolerence 5m # <-
	}
`,
			want: []string{`unknown subdirective "tolerence"`, "valid ones:", "tolerance", "max_body"},
		},
		{
			name: "bad_max_body",
			site: `
	webhook_verify github {env.SECRET} {
		max_body lots # <-
	}
`,
			want: []string{`max_body: "lots" is not a size`, "25MiB"},
		},
		{
			// Finding 12: adjacent tokens are ambiguous.
			name: "adjacent_content_tokens",
			site: `
	webhook_verify hmac {env.SECRET} { # <-
		header X-Signature
		timestamp_header X-Timestamp
		id_header X-Event-Id
		signed_content "{id}{timestamp}{body}"
	}
`,
			want: []string{"{timestamp} directly follows {id}", "put literal text between them, e.g. {id}.{timestamp}"},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := globalOptions + fmt.Sprintf("\nhttp://localhost:%d {%s\treverse_proxy localhost:1\n}\n", httpPort, c.site)
			wantAdaptError(t, cfg, c.want...)
		})
	}
}

// TestCaddyfileAdapt: a small Caddyfile adapts to the expected JSON. The
// site lists reverse_proxy, basic_auth, webhook_verify and request_body in
// the wrong order and has no order line: the handlers come out as
// request_body, webhook_verify, basic_auth, reverse_proxy, which is the
// directive order hookguard registers. The secret stays a placeholder.
func TestCaddyfileAdapt(t *testing.T) {
	caddytest.AssertAdapt(t, globalOptions+fmt.Sprintf(`
http://localhost:%d {
	reverse_proxy localhost:8081
	basic_auth {
		ops $2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG
	}
	webhook_verify standard {env.WEBHOOK_SECRET} {
		tolerance 10m
		max_body 1MiB
		strip_signature
	}
	request_body {
		max_size 2MiB
	}
}
`, httpPort), "caddyfile", `{
	"admin": {
		"listen": "localhost:2999"
	},
	"apps": {
		"http": {
			"http_port": 9080,
			"https_port": 9443,
			"grace_period": 1,
			"servers": {
				"srv0": {
					"listen": [
						":9080"
					],
					"routes": [
						{
							"match": [
								{
									"host": [
										"localhost"
									]
								}
							],
							"handle": [
								{
									"handler": "subroute",
									"routes": [
										{
											"handle": [
												{
													"handler": "request_body",
													"max_size": 2097152
												},
												{
													"handler": "webhook_verify",
													"max_body": 1048576,
													"scheme": "standard",
													"secrets": [
														{
															"value": "{env.WEBHOOK_SECRET}"
														}
													],
													"strip_signature": true,
													"tolerance": 600000000000
												},
												{
													"handler": "authentication",
													"providers": {
														"http_basic": {
															"accounts": [
																{
																	"password": "$2a$14$Zkx19XLiW6VYouLHR5NmfOFU0z2GTNmpkT/5qqR7hx4IjWJPDhjvG",
																	"username": "ops"
																}
															],
															"hash": {
																"algorithm": "bcrypt"
															},
															"hash_cache": {}
														}
													}
												},
												{
													"handler": "reverse_proxy",
													"upstreams": [
														{
															"dial": "localhost:8081"
														}
													]
												}
											]
										}
									]
								}
							],
							"terminal": true
						}
					]
				}
			}
		},
		"pki": {
			"certificate_authorities": {
				"local": {
					"install_trust": false
				}
			}
		}
	}
}`)
}
