package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

func init() {
	caddy.RegisterModule(Sign{})
}

// Sign is an HTTP handler that signs a request on its way to a webhook
// receiver, the way a webhook sender does. It reads the body (up to
// MaxBody), signs exactly those bytes, removes any signature, timestamp or
// id headers that came in, sets the scheme's headers (with a fresh delivery
// id and timestamp), and passes the request on with its body restored, for
// reverse_proxy to relay. What it signs (body, id, timestamp) is untouched
// by reverse_proxy's own changes to the request (Host, X-Forwarded-*).
//
// Whether the receiver's TLS certificate is verified is set per route in
// reverse_proxy's transport (tls_trust_pool, tls_server_name,
// tls_insecure_skip_verify).
//
// After signing, {http.webhook.id} and {http.webhook.timestamp} hold the
// delivery id and Unix timestamp that were sent.
type Sign struct {
	// Scheme is how to sign: standard (Standard Webhooks, the default for
	// new integrations), svix, github, stripe, slack, shopify, decsys,
	// bitbucket, gitlab, or a generic hmac described by the fields below.
	Scheme string `json:"scheme"`

	// Secrets sign the request. Schemes that carry several signatures
	// (standard, svix, stripe) get one per unexpired secret, so receivers
	// can rotate; the others are signed with the first unexpired one.
	// Secrets must be strong: at least 16 characters, varied, and not made
	// of common words or patterns (hookguard webhook secret makes one).
	Secrets []Secret `json:"secrets,omitempty"`

	// MaxBody is the largest body signed, in bytes; larger bodies get a
	// 413. Default: 25 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// Name names the route in logs and metrics (label "route"), so that
	// several subscriptions of one scheme can be told apart. Optional.
	Name string `json:"name,omitempty"`

	// InsecureUnsigned relays requests without any signature header when
	// no secret is configured, for development only; every config load
	// logs a warning.
	InsecureUnsigned bool `json:"insecure_unsigned,omitempty"`

	// SchemeFields describe a generic hmac scheme.
	SchemeFields

	// BodyOptions bound the memory and time reading a body may take.
	BodyOptions

	core
	owned []string // headers the scheme sets; incoming copies are dropped
}

// CaddyModule returns the Caddy module information.
func (Sign) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.webhook_sign",
		New: func() caddy.Module { return new(Sign) },
	}
}

// Provision builds the scheme, resolves the secrets and checks their
// strength: you choose a signing secret, so a weak one is an error.
func (s *Sign) Provision(ctx caddy.Context) error {
	s.refusal = "webhook not signed"
	// With github's legacy header known, a client's X-Hub-Signature is
	// dropped too; signing itself uses the scheme's main header only.
	if _, err := s.provision(ctx, "sign", s.Scheme, s.Name, s.SchemeFields, verifier.Options{LegacySHA1: s.Scheme == "github"}, s.MaxBody); err != nil {
		return err
	}
	keys, err := resolveKeys(s.Secrets, s.scheme, s.now(), s.InsecureUnsigned, func(n int, label, secret string) error {
		if err := signer.CheckSchemeKey(s.scheme, secret).Err(); err != nil {
			return fmt.Errorf("webhook_sign %s, secret %d (%s): %w", s.Scheme, n, label, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.provisionBody(s.BodyOptions)
	s.logExpired(keys.expired)
	s.keys = keys.active
	s.owned = headerNames(s.scheme, true)
	if keys.configured == 0 {
		if !s.InsecureUnsigned {
			return fmt.Errorf("webhook_sign %s: no secret is configured; generate one with `hookguard webhook secret` and give it as {env.NAME} or {file./path}", s.Scheme)
		}
		s.unsigned = true
		s.logger.Warn("insecure_unsigned: requests on this route are relayed WITHOUT a signature; for development only")
	}
	return nil
}

// Validate checks the configuration.
func (s *Sign) Validate() error {
	if s.MaxBody < 0 {
		return fmt.Errorf("max_body must not be negative")
	}
	return s.BodyOptions.validate()
}

// ServeHTTP signs the request and calls next.
func (s *Sign) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// A signature that came in with the request is never passed on.
	for _, h := range s.owned {
		r.Header.Del(h)
	}
	unlistOwned(r.Header, s.owned)
	if s.unsigned {
		s.requests.WithLabelValues("unsigned", "").Inc()
		return next.ServeHTTP(w, r)
	}
	now := s.now()
	keys := make([][]byte, 0, len(s.keys))
	label := ""
	for _, k := range s.keys {
		if k.NotAfter.IsZero() || now.Before(k.NotAfter) {
			if label == "" {
				label = k.Label
			}
			keys = append(keys, k.Secret)
		}
	}
	if len(keys) == 0 {
		return s.refuseUnread(w, r, http.StatusInternalServerError, errors.New("every signing secret has expired"))
	}
	// Signed as it is read, in one pass: the body may be spooled to a file.
	id := signer.NewID()
	signing := signer.Begin(s.scheme, keys, id, now)
	body, err := s.body(w, r, signing)
	if err != nil {
		return err
	}
	for name, vals := range signing.Header() {
		r.Header[name] = vals
	}
	restoreBody(r, body)
	defer body.Release()
	s.requests.WithLabelValues("signed", label).Inc()
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.webhook.id", id)
	repl.Set("http.webhook.timestamp", strconv.FormatInt(now.Unix(), 10))
	repl.Set("http.webhook.scheme", s.Scheme)
	repl.Set("http.webhook.key", label)
	return next.ServeHTTP(w, r)
}

// unlistOwned removes the names of the headers the scheme sets from the
// incoming Connection header. There they only declared the client's own
// copies hop-by-hop (and those are dropped above); left in place, they
// would make reverse_proxy, which removes every header Connection names,
// drop the signature, id and timestamp this handler sets.
func unlistOwned(h http.Header, owned []string) {
	vals := h.Values("Connection")
	if len(vals) == 0 {
		return
	}
	var keep []string
	for _, v := range vals {
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			if tok == "" || slices.ContainsFunc(owned, func(o string) bool { return strings.EqualFold(o, tok) }) {
				continue
			}
			keep = append(keep, tok)
		}
	}
	if len(keep) == 0 {
		h.Del("Connection")
		return
	}
	h["Connection"] = []string{strings.Join(keep, ", ")}
}

// Interface guards
var (
	_ caddy.Provisioner           = (*Sign)(nil)
	_ caddy.Validator             = (*Sign)(nil)
	_ caddyhttp.MiddlewareHandler = (*Sign)(nil)
)
