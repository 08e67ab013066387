package caddymodule

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

func init() {
	caddy.RegisterModule(WebhookSign{})
}

// WebhookSign is an HTTP handler that signs a request on its way to a webhook
// receiver, the way a webhook sender does.
//
// It signs whatever it is sent: a WebhookSign route that the public can reach is
// an open signing relay, through which anyone can have webhooks of their
// choosing signed with your secret and delivered to your receivers. Serve
// relay routes to internal callers only (a site bound to loopback with
// bind 127.0.0.1 ::1, or a remote_ip private_ranges matcher), or put
// webhook_verify before it. At load, a WebhookSign handler with neither a
// webhook_verify before it (earlier in its route, or in an earlier route
// without a matcher) nor a caller restriction (a remote_ip matcher, or a
// client_ip matcher on a server without trusted_proxies, for
// loopback/private ranges only on its chain of routes, or a server
// listening only on loopback or unix sockets) logs the warning "open
// signing relay". Other guards (forward_auth, a firewall, a proxy in
// front) cannot be seen, and so are warned about too.
//
// It reads the body (up to MaxBody), signs exactly those bytes, removes
// any signature, timestamp or id headers that came in, and the caller's
// credentials (see KeepHeaders), sets the scheme's headers (with a fresh
// timestamp and a delivery id, see below), and passes the request on with
// its body restored, for reverse_proxy to relay. What it signs (body, id,
// timestamp) is untouched by reverse_proxy's own changes to the request
// (Host, X-Forwarded-*).
//
// The delivery id is fresh for every request, except after a
// webhook_verify that verified the request: then it is derived from what
// was verified, so that one webhook replayed N times reaches the receiver
// N times under one id and the receiver's own de-duplication sees the
// replay. Where the sender's signature covers its id (standard, svix, a
// generic scheme signing {id}), that id is kept; otherwise (github,
// stripe, slack, ...) the id is msg_ and a SHA-256 digest of the verifying
// scheme and the signature that matched, which covers the body; for token
// schemes, which sign nothing, of the body's SHA-256.
//
// Whether the receiver's TLS certificate is verified is set per route in
// reverse_proxy's transport (tls_trust_pool, tls_server_name,
// tls_insecure_skip_verify).
//
// After signing, {http.webhook.id} and {http.webhook.timestamp} hold the
// delivery id and Unix timestamp that were sent.
type WebhookSign struct {
	// Scheme is how to sign: standard (Standard Webhooks, the default for
	// new integrations), svix, github, stripe, slack, shopify, decsys,
	// bitbucket, gitlab, or a generic hmac described by the fields below.
	Scheme string `json:"scheme"`

	// Secrets sign the request. Schemes that carry several signatures
	// (standard, svix, stripe) get one per unexpired secret, so receivers
	// can rotate; the others are signed with the first unexpired one.
	// Secrets must be strong: at least 16 characters, varied, and not made
	// of common words or patterns; a whsec_ key of standard or svix must
	// decode to at least 24 random-looking bytes (the webhook secret
	// subcommand makes one). A weak one fails the load with an error naming the rule.
	Secrets []Secret `json:"secrets,omitempty"`

	// PrivateKeys sign the request for a scheme that signs with a key
	// pair (standard-v1a): PEM, or as the webhook secret subcommand prints
	// them (whsk_...). Give them as {env.NAME} or {file./path}.
	PrivateKeys []Secret `json:"private_keys,omitempty"`

	// MaxBody is the largest body signed, in bytes; larger bodies get a
	// 413. Default: 25 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// Name names the route in logs and metrics (label "route"), so that
	// several subscriptions of one scheme can be told apart. Optional.
	Name string `json:"name,omitempty"`

	// InsecureUnsigned relays requests without any signature header when
	// no secret is configured at all, for development only; every config
	// load logs a warning. A configured secret that does not resolve still
	// fails the load.
	InsecureUnsigned bool `json:"insecure_unsigned,omitempty"`

	// KeepHeaders lists caller credentials to pass on to the receiver
	// anyway. By default the Authorization, Cookie and Proxy-Authorization
	// headers of the (internal) caller are removed: they are meant for
	// this gateway, not for a third party. Only those three names may be
	// listed; remove other headers with reverse_proxy's header_up -Name.
	KeepHeaders []string `json:"keep_headers,omitempty"`

	// PublicURL (scheme://host[:port]) is where the receiver is called,
	// for a scheme that signs the URL (twilio, square, hubspot, ...): the
	// URL signed is it followed by the path and query the request is
	// relayed with. Required by such schemes, since the receiver checks
	// the URL it sees, which this handler cannot know.
	PublicURL string `json:"public_url,omitempty"`

	// SchemeFields describe a generic hmac scheme.
	SchemeFields

	// BodyOptions bound the memory and time reading a body may take.
	BodyOptions

	route *route           // set up by Provision
	clock func() time.Time // nil: time.Now; tests set it
	owned []string         // headers the scheme sets; incoming copies are dropped
	drop  []string         // caller credentials dropped (callerCredentials minus KeepHeaders)
}

// callerCredentials are the request headers that carry the caller's own
// credentials. webhook_sign removes them unless kept: a webhook to a third
// party must not carry the internal caller's login.
var callerCredentials = []string{"Authorization", "Cookie", "Proxy-Authorization"}

// CaddyModule returns the Caddy module information.
func (WebhookSign) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.webhook_sign",
		New: func() caddy.Module { return new(WebhookSign) },
	}
}

// Provision builds the scheme, resolves the secrets and checks their
// strength: you choose a signing secret, so a weak one is an error.
func (s *WebhookSign) Provision(ctx caddy.Context) error {
	// The same checks as a Caddyfile's, so a JSON config fails alike.
	if err := s.Validate(); err != nil {
		return err
	}
	// With github's legacy header known, a client's X-Hub-Signature is
	// dropped too; signing itself uses the scheme's main header only.
	rt, err := newRoute(ctx, routeConfig{
		handler: "sign", scheme: s.Scheme, name: s.Name, fields: s.SchemeFields,
		options: preset.Options{LegacySHA1: s.Scheme == "github"}, maxBody: s.MaxBody, body: s.BodyOptions,
		refusal: "webhook not signed", now: s.clock,
	})
	if err != nil {
		return fmt.Errorf("webhook_sign %s: %w", s.Scheme, err)
	}
	s.route = rt
	if s.PublicURL != "" {
		rt.publicURL, _ = publicBase(s.PublicURL) // checked by Validate
	}
	list, word := s.Secrets, "secret"
	if rt.scheme.Asymmetric() {
		list, word = s.PrivateKeys, "private_key"
	}
	keys, err := resolveKeys(ctx, rt.logger, list, rt.scheme, rt.now(), word, func(n int, label string, rep signer.Report) error {
		// The error names the rules broken, not how (rep.Err): config
		// errors reach logs and the admin API's answers.
		hint := "generate one with " + subcommand("secret") + " (" + subcommand("check-secret") + " tells why)"
		if label != neutralLabel(n) {
			return fmt.Errorf("secret %d (%s): %w; %s", n, label, rep.Err(), hint)
		}
		return fmt.Errorf("secret %d: %w; %s", n, rep.Err(), hint)
	})
	if err != nil {
		return fmt.Errorf("webhook_sign %s: %w", s.Scheme, err)
	}
	rt.logExpired(keys.expired)
	rt.keys = keys.active
	s.owned = headerNames(rt.scheme, true)
	s.drop = slices.DeleteFunc(slices.Clone(callerCredentials), func(h string) bool {
		return slices.ContainsFunc(s.KeepHeaders, func(k string) bool { return strings.EqualFold(h, k) })
	})
	if len(list) == 0 {
		rt.unsigned = true
		rt.logger.Warn("insecure_unsigned: requests on this route are relayed WITHOUT a signature; for development only (no secret is configured: if one was meant, a {$VAR} may have expanded to nothing, use {env.VAR})")
	}
	if why := exposure(ctx, s, "webhook_sign"); why != "" {
		rt.logger.Warn("open signing relay: anyone who can reach this server can have webhooks of their choosing signed by this route; "+
			"serve it only to internal callers (a site with bind 127.0.0.1 ::1, or a remote_ip private_ranges matcher) or put webhook_verify before it",
			zap.String("because", why))
	}
	rt.logLoaded()
	rt.watchExpiry()
	rt.publish()
	return nil
}

// Cleanup takes the route off the admin API's list.
func (s *WebhookSign) Cleanup() error {
	if s.route != nil {
		s.route.close()
	}
	return nil
}

// Validate checks the configuration, the same way for a Caddyfile and for
// JSON.
func (s *WebhookSign) Validate() error {
	noSecret := "no secret is configured: generate one with " + subcommand("secret") + ", store it in a file or an environment variable and write webhook_sign " +
		s.Scheme + " {file./path} (or {env.NAME})"
	sch, err := validateShared(s.Scheme, s.SchemeFields, preset.Options{}, s.Secrets, s.PrivateKeys, "private_key", s.InsecureUnsigned, s.MaxBody, s.BodyOptions, noSecret)
	if err == nil {
		err = s.validateURL(sch)
	}
	if err == nil {
		for i, k := range s.KeepHeaders {
			if err = checkKeepHeader(k); err != nil {
				err = &fieldError{field: "keep_header", n: i + 1, err: err}
				break
			}
		}
	}
	if err != nil {
		return fmt.Errorf("webhook_sign %s: %w", s.Scheme, err)
	}
	return nil
}

// checkKeepHeader refuses a keep_header that would do nothing: a header
// that is not removed in the first place.
func checkKeepHeader(name string) error {
	if !slices.ContainsFunc(callerCredentials, func(h string) bool { return strings.EqualFold(h, name) }) {
		return fmt.Errorf("keep_header %q: only %s are removed by default; other headers pass unless you remove them with reverse_proxy's header_up -Name",
			name, strings.Join(callerCredentials, ", "))
	}
	return nil
}

// ServeHTTP signs the request and calls next.
func (s *WebhookSign) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	// A signature that came in with the request is never passed on, nor
	// a look-alike of the headers set here (Webhook_Signature, webhook.id:
	// a CGI-style receiver folds them into the real ones), nor the
	// caller's credentials unless kept.
	s.route.scheme.DropUnverified(r.Header, verifier.Headers{})
	for _, h := range s.drop {
		r.Header.Del(h)
	}
	unlistOwned(r.Header, s.owned)
	if s.route.unsigned {
		s.route.count("unsigned", "")
		return next.ServeHTTP(w, r)
	}
	now := s.route.now()
	usable, _ := scheme.Usable(s.route.keys, now)
	if len(usable) == 0 {
		return s.route.refuseUnread(w, r, http.StatusInternalServerError, errors.New("every signing secret has expired"))
	}
	// Signed as it is read, in one pass: the body may be spooled to a file.
	// After webhook_verify, the id comes from what was verified (see
	// verifiedDelivery), so a replay of one webhook keeps one id; in the
	// form the scheme's receivers take (signer.IDFor).
	id := ""
	if d := verifiedOf(r); d != nil {
		id = d.outgoingID()
	}
	id = signer.IDFor(s.route.scheme, id)
	label := usable[0].Label
	keys := make([]scheme.Key, len(usable))
	for i, k := range usable {
		keys[i] = *k
	}
	msg := signer.Message{ID: id, Time: now, Method: r.Method}
	if s.route.publicURL != "" {
		// What reverse_proxy will send: the path and query as they are
		// now, after any rewrite.
		msg.URL = s.route.publicURL + r.URL.RequestURI()
	}
	signing := signer.Begin(s.route.scheme, keys, msg)
	body, err := s.route.body(w, r, signing)
	if err != nil {
		return err
	}
	h, err := signing.Header()
	if err != nil {
		body.Release()
		return s.route.refuseUnread(w, r, http.StatusInternalServerError, err)
	}
	for name, vals := range h {
		r.Header[name] = vals
	}
	restoreBody(r, body)
	defer body.Release()
	s.route.count("signed", label)
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	repl.Set("http.webhook.id", id)
	repl.Set("http.webhook.timestamp", s.route.scheme.Time.Format(now))
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
	_ caddy.Provisioner           = (*WebhookSign)(nil)
	_ caddy.Validator             = (*WebhookSign)(nil)
	_ caddy.CleanerUpper          = (*WebhookSign)(nil)
	_ caddyhttp.MiddlewareHandler = (*WebhookSign)(nil)
	_ caddyfile.Unmarshaler       = (*WebhookSign)(nil)
)

// validateURL checks public_url against the scheme: required where the
// URL is signed, refused where it is not.
func (s *WebhookSign) validateURL(sch *verifier.Scheme) error {
	if vo, ok := sch.Strategy.(scheme.VerifyOnly); ok {
		return errors.New(vo.VerifyOnly())
	}
	switch {
	case s.PublicURL == "" && sch.UsesURL():
		return fmt.Errorf("scheme %s signs the URL the receiver is called at, which this handler cannot know: write public_url https://receiver.example (scheme://host[:port]; the path and query are the request's own)", s.Scheme)
	case s.PublicURL != "" && !sch.UsesURL():
		return fieldErrorf("public_url", "public_url has no effect: scheme %s does not sign the URL; remove it", s.Scheme)
	case s.PublicURL != "":
		if _, err := publicBase(s.PublicURL); err != nil {
			return fieldErrorf("public_url", "public_url: %v", err)
		}
	}
	return nil
}
