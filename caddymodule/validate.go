package caddymodule

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/verifier"
)

// Every rule of a configuration is checked here, once: Validate calls
// these, Provision calls Validate first, and the Caddyfile parser calls it
// after parsing and points the error at the directive's line. So a JSON
// config and a Caddyfile are refused alike, with the same words.

// fieldError is a validation error about one option, so that the
// Caddyfile parser can point at the line that set it: field is the
// subdirective (max_body, tolerance, "replay address", ...), n the 1-based
// position of a secret.
type fieldError struct {
	field string
	n     int
	err   error
}

func (e *fieldError) Error() string { return e.err.Error() }
func (e *fieldError) Unwrap() error { return e.err }

func fieldErrorf(field string, format string, args ...any) error {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

func secretErrorf(n int, format string, args ...any) error {
	return keyErrorf("secret", n, format, args...)
}

// keyErrorf is secretErrorf for a list of keys given with word (secret,
// public_key, private_key).
func keyErrorf(word string, n int, format string, args ...any) error {
	return &fieldError{field: word, n: n, err: fmt.Errorf(format, args...)}
}

// maxSize bounds max_body and buffer_memory: 1 TiB, beyond any webhook.
const maxSize = 1 << 40

// validateShared checks what webhook_verify and webhook_sign have in
// common, and returns the scheme it built. keys are the keys of an
// asymmetric scheme, given with keyWord (public_key, private_key).
// noSecret is the error for a route with no secret and no
// insecure_unsigned.
func validateShared(scheme string, g SchemeFields, o preset.Options, secrets, keys []Secret, keyWord string, unsigned bool, maxBody int64, body BodyOptions, noSecret string) (*verifier.Scheme, error) {
	s, err := buildScheme(scheme, g, o)
	if err != nil {
		return nil, err
	}
	if s.Asymmetric() {
		// The sender signs with a private key and publishes the public
		// one: a shared secret has no place here, and one given by
		// mistake must not pass for a key.
		if len(secrets) > 0 {
			return nil, secretErrorf(1, "scheme %s signs with a key pair (%s), not a shared secret: write %s <key> instead of secret", scheme, s.Algorithm.Name(), keyWord)
		}
		secrets, noSecret = keys, fmt.Sprintf("no %s is configured: write %s { %s {env.WEBHOOK_KEY} } (or {file./path}) with the key as the sender publishes it, or add insecure_unsigned for development only", keyWord, scheme, keyWord)
	} else if len(keys) > 0 {
		return nil, keyErrorf(keyWord, 1, "%s is for schemes that sign with a key pair (such as discord or standard-v1a); scheme %s signs with a shared secret: write secret <secret>", keyWord, scheme)
	}
	if maxBody < 0 || maxBody > maxSize {
		return nil, fieldErrorf("max_body", "max_body %d is out of range: give a size from 1 byte to 1TiB, e.g. 25MiB (the default)", maxBody)
	}
	if err := body.validate(); err != nil {
		return nil, err
	}
	word := "secret"
	if s.Asymmetric() {
		word = keyWord
	}
	if err := validateSecrets(secrets, word); err != nil {
		return nil, err
	}
	if len(secrets) == 0 && !unsigned {
		return nil, errors.New(noSecret)
	}
	return s, nil
}

// validateSecrets checks what can be checked of secrets (or keys, given
// with word) before they are resolved: none empty, labels unique,
// not_after a time.
func validateSecrets(secrets []Secret, word string) error {
	labels := map[string]int{}
	for i, sec := range secrets {
		n := i + 1
		if sec.Value == "" {
			return keyErrorf(word, n, "%s %d is empty (a {$VAR} unset when the Caddyfile was adapted leaves nothing; write {env.VAR}, which is checked at every load)", word, n)
		}
		if strings.TrimSpace(sec.Value) == "" {
			return keyErrorf(word, n, "%s %d is only whitespace", word, n)
		}
		if sec.Label != "" {
			if first, ok := labels[sec.Label]; ok {
				return keyErrorf(word, n, "%s %d: label %q is already the label of %s %d; labels tell secrets apart in logs, metrics and the admin API, so give each its own", word, n, sec.Label, word, first)
			}
			labels[sec.Label] = n
		}
		if sec.NotAfter != "" {
			if _, err := time.Parse(time.RFC3339, sec.NotAfter); err != nil {
				return keyErrorf(word, n, "%s %d: not_after %q is not an RFC 3339 time; write e.g. 2026-12-31T23:59:59Z", word, n, sec.NotAfter)
			}
		}
	}
	return nil
}

// Validate checks the configuration, the same way for a Caddyfile and for
// JSON.
func (v *WebhookVerify) Validate() error {
	if err := v.validate(); err != nil {
		return fmt.Errorf("webhook_verify %s: %w", v.Scheme, err)
	}
	return nil
}

func (v *WebhookVerify) validate() error {
	o := preset.Options{LegacySHA1: v.LegacySHA1}
	noSecret := "no secret is configured: write webhook_verify " + v.Scheme + " {env.WEBHOOK_SECRET} (or {file./path}), or add insecure_unsigned for development only"
	s, err := validateShared(v.Scheme, v.SchemeFields, o, v.Secrets, v.PublicKeys, "public_key", v.InsecureUnsigned, v.MaxBody, v.BodyOptions, noSecret)
	if err != nil {
		return err
	}
	if v.PublicURL != "" {
		if !s.UsesURL() {
			return fieldErrorf("public_url", "public_url has no effect: scheme %s does not sign the URL; remove it", v.Scheme)
		}
		if _, err := publicBase(v.PublicURL); err != nil {
			return fieldErrorf("public_url", "public_url: %v", err)
		}
	}
	switch v.Handshake {
	case "", "pass", "answer":
		if v.Handshake != "" && s.Handshake == nil {
			return fieldErrorf("handshake", "handshake has no effect: scheme %s has no handshake; remove it", v.Scheme)
		}
	default:
		return fieldErrorf("handshake", "handshake %q: write handshake answer (this gateway answers the sender's handshake) or handshake pass (the app does, the default)", v.Handshake)
	}
	tolerance := s.Tolerance
	if v.Tolerance != nil {
		if *v.Tolerance < 0 {
			return fieldErrorf("tolerance", "tolerance must not be negative; write e.g. 5m, or 0 to switch the timestamp check off")
		}
		if !s.Timestamped() {
			return fieldErrorf("tolerance", "tolerance has no effect: scheme %s carries no signed timestamp; remove it", v.Scheme)
		}
		tolerance = time.Duration(*v.Tolerance)
	}
	if v.Replay != nil {
		if len(v.Secrets) == 0 && len(v.PublicKeys) == 0 {
			return fieldErrorf("replay", "replay needs verified requests: it cannot be used with insecure_unsigned")
		}
		if !s.Timestamped() {
			tolerance = 0
		}
		return v.Replay.validate(tolerance)
	}
	return nil
}

// validate checks the replay options; tolerance is the route's effective
// timestamp tolerance (0: no timestamp check).
func (rc *Replay) validate(tolerance time.Duration) error {
	var redisOnly string // the first option given that only redis takes
	for _, o := range []struct {
		name string
		set  bool
	}{{"address", rc.Address != ""}, {"username", rc.Username != ""}, {"password", rc.Password != ""}, {"tls", rc.TLS}, {"prefix", rc.Prefix != ""}, {"fail_open", rc.FailOpen}} {
		if o.set {
			redisOnly = o.name
			break
		}
	}
	switch {
	case rc.Store != "" && rc.Store != "memory" && rc.Store != "redis":
		return fieldErrorf("replay", "replay store %q: write replay memory or replay redis { address ... }", rc.Store)
	case rc.Store == "redis" && rc.Address == "":
		return fieldErrorf("replay", "replay redis needs an address: write replay redis { address 127.0.0.1:6379 } (or a redis:// or rediss:// URL)")
	case rc.Store == "redis" && rc.MaxEntries != 0:
		return fieldErrorf("replay max_entries", "max_entries is for replay memory; Redis bounds itself (maxmemory)")
	case rc.Store != "redis" && redisOnly != "":
		return fieldErrorf("replay "+redisOnly, "address, username, password, tls, prefix and fail_open are for replay redis; write replay redis { ... }")
	case rc.MaxEntries < 0:
		return fieldErrorf("replay max_entries", "replay max_entries must be a positive whole number, e.g. 100000")
	case rc.Window < 0:
		return fieldErrorf("replay window", "replay window must be a positive duration, e.g. 24h")
	case rc.Window != 0 && time.Duration(rc.Window) < time.Minute:
		// A JSON number is nanoseconds: "window": 300 is 300ns, which
		// would forget every delivery at once.
		return fieldErrorf("replay window", "replay window %s is shorter than a minute, so a replay would not be caught; write e.g. \"24h\" (in JSON, a bare number is nanoseconds)", time.Duration(rc.Window))
	case rc.Window != 0 && tolerance > 0 && time.Duration(rc.Window) < 2*tolerance:
		return fieldErrorf("replay window", "replay window %s is shorter than twice the tolerance (%s): a replay could come after it; use at least %s",
			time.Duration(rc.Window), tolerance, 2*tolerance+time.Minute)
	}
	return nil
}

// commandName is how the user runs this program: caddy in an xcaddy
// build, hookguard in ours. Messages that tell them to run a subcommand
// (webhook secret) name it so it is right in both.
var commandName = func() string {
	name := filepath.Base(os.Args[0])
	if name == "" || name == "." || strings.HasSuffix(name, ".test") {
		return "caddy"
	}
	return strings.TrimSuffix(name, ".exe")
}()

// subcommand is the command line that runs a webhook subcommand, quoted
// for a message: `caddy webhook secret`.
func subcommand(sub string) string {
	return "`" + commandName + " webhook " + sub + "`"
}

// publicBase checks public_url, scheme://host[:port] and nothing more, and
// returns it without a trailing slash: the path and query signed are
// always the request's own.
func publicBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("not a URL; write e.g. https://hooks.example.com")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("the scheme must be http or https, e.g. https://hooks.example.com")
	case u.Host == "" || u.User != nil:
		// Not quoted back: userinfo would be a password.
		return "", errors.New("write scheme://host[:port], e.g. https://hooks.example.com, with no user or password")
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", errors.New("give only scheme://host[:port]: the path and query signed are the request's own")
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return "", errors.New("the port must be a number from 1 to 65535")
		}
	}
	return u.Scheme + "://" + u.Host, nil
}
