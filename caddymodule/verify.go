package caddymodule

import (
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/spool"
	"github.com/hookguard/hookguard/verifier"
)

func init() {
	caddy.RegisterModule(WebhookVerify{})
}

// DefaultMaxBody is the largest body webhook_verify and webhook_sign read
// unless max_body says otherwise: 25 MiB, GitHub's own cap on webhook
// payloads.
const DefaultMaxBody = 25 << 20

// WebhookVerify is an HTTP handler that authenticates incoming webhooks. It reads
// the request body (up to MaxBody), checks the sender's signature over the
// exact bytes, and only then passes the request, with its body restored byte
// for byte, to the next handler. A request that fails gets a 401 (413 for an
// oversized body) through Caddy's error handling, so handle_errors can shape
// the response; nothing of it reaches the next handler.
//
// After success these placeholders are set: {http.webhook.verified} (true,
// or false under insecure_unsigned), {http.webhook.scheme}, {http.webhook.id}
// (the delivery id, where the scheme has one), {http.webhook.timestamp} (as
// sent) and {http.webhook.key} (the label or a fingerprint of the secret that
// matched, never the secret). A webhook_sign later in the route derives
// its delivery id from what was verified (see WebhookSign).
type WebhookVerify struct {
	// Scheme names the sender: a preset (github, gitlab, stripe, slack,
	// shopify, standard, svix, decsys, bitbucket) or a generic scheme, hmac
	// or token, described by the fields below.
	Scheme string `json:"scheme"`

	// Secrets are the accepted secrets; a request signed with any one that
	// has not expired passes, which lets a secret be rotated with no window
	// of failures. Give them as {env.NAME} or {file./path} placeholders,
	// resolved at provision, so the secret stays out of the JSON config.
	Secrets []Secret `json:"secrets,omitempty"`

	// PublicKeys are the sender's public keys, for a scheme that signs
	// with a key pair (discord, sendgrid, standard-v1a, ...), as the sender
	// publishes them (PEM, base64 or hex); any one that has not expired
	// may match, which lets the sender rotate.
	PublicKeys []Secret `json:"public_keys,omitempty"`

	// PublicURL (scheme://host[:port]) replaces the scheme and host of the
	// URL a URL-signing sender (twilio, square, hubspot, ...) is taken to
	// have called, for a route behind another proxy or a tunnel. Default:
	// https when the request came over TLS, else http, and its Host
	// header. The path and query are always the request's own, as it
	// arrived, before any rewrite.
	PublicURL string `json:"public_url,omitempty"`

	// Handshake says who answers a sender's signed check of the endpoint
	// (Slack's url_verification, Twitch's callback verification, Discord's
	// PING): "pass" (the default) lets it through to the app, verified;
	// "answer" has this handler answer it. A handshake that needs the
	// secret to answer (Zoom's) or carries no signature (Dropbox's
	// challenge, Okta's verification) is always answered here.
	Handshake string `json:"handshake,omitempty"`

	// Tolerance is how far a timestamped scheme's timestamp may be from
	// this server's clock, either way. Default: the sender's own (five
	// minutes for Stripe, Slack and Standard Webhooks); 0 switches the
	// check off.
	Tolerance *caddy.Duration `json:"tolerance,omitempty"`

	// MaxBody is the largest body accepted, in bytes; larger bodies get a
	// 413 before they are read, or as soon as they pass the limit. Default:
	// 25 MiB.
	MaxBody int64 `json:"max_body,omitempty"`

	// LegacySHA1 lets the github scheme accept the SHA-1 X-Hub-Signature
	// header when X-Hub-Signature-256 is absent. Off by default.
	LegacySHA1 bool `json:"legacy_sha1,omitempty"`

	// StripSignature removes the signature headers from the request once
	// verified, so the app behind never sees them. Token schemes (gitlab,
	// token) always remove the token header: it is the secret itself.
	StripSignature bool `json:"strip_signature,omitempty"`

	// Name names the route in logs and metrics (label "route"), so that
	// several routes of one scheme can be told apart. Optional.
	Name string `json:"name,omitempty"`

	// InsecureUnsigned lets requests through unverified when no secret is
	// configured at all, for development only: {http.webhook.verified} is
	// then false and every config load logs a warning. MaxBody still
	// applies. It never excuses a configured secret that does not resolve
	// (an unset {env.X}, an empty {file.X}): that fails the load.
	InsecureUnsigned bool `json:"insecure_unsigned,omitempty"`

	// Replay, if set, de-duplicates deliveries: a webhook already
	// delivered is answered 200 with Webhook-Duplicate: true and not
	// passed on again; one in flight gets 409; a failed delivery (no
	// answer, or a 5xx) is forgotten so the sender's retry gets through.
	// Off unless configured.
	Replay *Replay `json:"replay,omitempty"`

	// SchemeFields describe a generic hmac or token scheme.
	SchemeFields

	// BodyOptions bound the memory and time reading a body may take.
	BodyOptions

	route     *route           // set up by Provision
	checked   []verifier.Key   // route.keys, then the secrets that had expired at load (never accepted)
	clock     func() time.Time // nil: time.Now; tests set it
	replay    *replayGuard
	tolerance time.Duration
	strip     []string
	protect   []string // headers a client's Connection header may not remove
	relayed   bool     // a webhook_relay follows: handshakes are answered here
}

// Secret is one accepted secret.
type Secret struct {
	// Value is the secret, normally a {env.NAME} or {file./path}
	// placeholder resolved at provision; one that does not resolve, or
	// resolves empty, fails the load. Any other value is in the JSON
	// config, the admin API and autosave.json, and is warned about at
	// every load.
	Value string `json:"value"`
	// Label names the secret in logs, metrics and {http.webhook.key}.
	// Default: its fingerprint (fp- and 8 hex digits of HMAC-SHA256 keyed
	// with this installation's key, hookguard/fingerprint.key in Caddy's
	// storage), or secret-N (its 1-based position) for a secret judged
	// weak, which gets no fingerprint.
	Label string `json:"label,omitempty"`
	// NotAfter (RFC 3339) is when the secret stops being accepted (or,
	// for webhook_sign, used). A warning is logged when it passes while
	// the config runs, and at every load after. webhook_verify refuses a
	// webhook signed with an expired secret as expired_secret, naming the
	// secret by its label, rather than as a wrong signature (of a route's
	// expired secrets, the two that expired last are recognised).
	NotAfter string `json:"not_after,omitempty"`
}

// CaddyModule returns the Caddy module information.
func (WebhookVerify) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "http.handlers.webhook_verify",
		New: func() caddy.Module { return new(WebhookVerify) },
	}
}

// Provision builds the scheme and resolves the secrets.
func (v *WebhookVerify) Provision(ctx caddy.Context) error {
	// The same checks as a Caddyfile's, so a JSON config fails alike.
	if err := v.Validate(); err != nil {
		return err
	}
	rt, err := newRoute(ctx, routeConfig{
		handler: "verify", scheme: v.Scheme, name: v.Name, fields: v.SchemeFields,
		options: preset.Options{LegacySHA1: v.LegacySHA1}, maxBody: v.MaxBody, body: v.BodyOptions,
		refusal: "webhook rejected", now: v.clock,
	})
	if err != nil {
		return fmt.Errorf("webhook_verify %s: %w", v.Scheme, err)
	}
	v.route = rt
	s := rt.scheme

	v.tolerance = s.Tolerance
	if v.Tolerance != nil {
		v.tolerance = time.Duration(*v.Tolerance)
	}
	if s.Timestamped() && v.tolerance == 0 {
		rt.logger.Warn("timestamp check is off (tolerance 0): old webhooks are accepted if their signature is valid")
	}

	list, word := v.Secrets, "secret"
	if s.Asymmetric() {
		list, word = v.PublicKeys, "public_key"
	}
	if v.PublicURL != "" {
		rt.publicURL, _ = publicBase(v.PublicURL) // checked by Validate
	}
	keys, err := resolveKeys(ctx, rt.logger, list, s, rt.now(), word, func(n int, label string, rep signer.Report) error {
		// The sender may have chosen the secret: a weak one is only a
		// warning, which names the rules it breaks and nothing else.
		rt.logger.Warn("weak webhook secret: ask the sender for a stronger one if you can",
			zap.Int("secret", n), zap.String("key", label), zap.Error(rep.Err()))
		return nil
	})
	if err != nil {
		return fmt.Errorf("webhook_verify %s: %w", v.Scheme, err)
	}
	rt.logExpired(keys.expired)
	rt.keys = keys.active
	v.checked = append(slices.Clip(rt.keys), verifier.LastExpired(keys.expiredKeys, rt.now())...)
	if len(list) == 0 {
		rt.unsigned = true
		// Also what `webhook_verify github {$UNSET} { insecure_unsigned }`
		// adapts to: the Caddyfile drops an empty {$VAR} before parsing.
		rt.logger.Warn("insecure_unsigned: webhooks on this route pass WITHOUT verification; for development only (no secret is configured: if one was meant, a {$VAR} may have expanded to nothing, use {env.VAR})")
	}
	// A token is the secret itself: it never goes on, where Caddy's own
	// proxy and access logs would record it.
	if v.StripSignature || s.Compares() {
		v.strip = headerNames(s, false)
	}
	if s.Compares() {
		v.warnAccessLog(ctx)
	}
	v.protect = append(s.Names(), "Content-Type")
	v.relayed = s.Handshake != nil && relayAfter(ctx)
	if err := v.provisionReplay(ctx, v.tolerance); err != nil {
		return err
	}
	rt.logLoaded(v.loadedFields()...)
	rt.describe = v.describe // the replay store, for the admin API
	rt.watchExpiry()
	rt.publish()
	return nil
}

// loadedFields are what the load's INFO line says of verify's own options.
func (v *WebhookVerify) loadedFields() []zap.Field {
	fields := []zap.Field{zap.Duration("tolerance", v.tolerance), zap.Bool("strip_signature", len(v.strip) > 0)}
	if !v.route.scheme.Timestamped() {
		fields[0] = zap.String("tolerance", "none (the scheme has no timestamp)")
	}
	replayStore := "off"
	if v.Replay != nil {
		replayStore = "memory"
		if v.Replay.Store == "redis" {
			replayStore = "redis"
		}
	}
	return append(fields, zap.String("replay", replayStore))
}

// Cleanup lets go of the replay store.
func (v *WebhookVerify) Cleanup() error {
	v.cleanupReplay()
	if v.route != nil {
		v.route.close()
	}
	return nil
}

// warnAccessLog warns, for a token scheme, when the server writes an
// access log: Caddy records request headers as they arrive, before any
// handler runs, so the token (the secret itself, valid or not) is written
// there unless the log's encoder deletes it. The handler cannot see the
// logging config, so the warning names the filter to add.
func (v *WebhookVerify) warnAccessLog(ctx caddy.Context) {
	srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok || srv.Logs == nil {
		return
	}
	for _, h := range headerNames(v.route.scheme, false) {
		h = textproto.CanonicalMIMEHeaderKey(h)
		v.route.logger.Warn("this server's access log records request headers as they arrive, so the token in "+h+
			" (the secret itself, valid or not) is written to it unless the log deletes it: add `format filter { request>headers>"+h+" delete }` to the site's log block",
			zap.String("header", h))
	}
}

// ServeHTTP verifies the request and, only if it passes, calls next.
func (v *WebhookVerify) ServeHTTP(w http.ResponseWriter, r *http.Request, next caddyhttp.Handler) error {
	repl := r.Context().Value(caddy.ReplacerCtxKey).(*caddy.Replacer)
	if r.ContentLength > v.route.maxBody {
		return v.route.refuseUnread(w, r, http.StatusRequestEntityTooLarge, errBodyTooLarge)
	}
	// What the scheme may sign besides the body, built once: the URL the
	// sender called, where the scheme needs it.
	req := v.route.request(r)
	hs := v.route.scheme.Handshake
	if hs != nil {
		// A handshake with no signature (Dropbox's challenge, Okta's
		// verification) is answered from the request line and headers;
		// it never goes on to the app.
		hreq := req // a copy: its address escapes, req's would for every request
		if ans := hs.Unsigned(&hreq); ans != nil {
			v.route.count("handshake", "")
			return writeAnswer(w, ans)
		}
	}
	if v.route.unsigned {
		// Unverified, but max_body holds all the same.
		body, err := v.route.body(w, r, io.Discard)
		if err != nil {
			return err
		}
		restoreBody(r, body)
		defer body.Release()
		v.route.count("unsigned", "")
		repl.Set("http.webhook.verified", false)
		repl.Set("http.webhook.scheme", v.Scheme)
		return next.ServeHTTP(w, r)
	}
	start := time.Now()
	check, err := verifier.Begin(v.route.scheme, req, v.checked, v.tolerance, v.route.now())
	if err != nil {
		v.route.observe(start, err)
		return v.route.refuseUnread(w, r, http.StatusUnauthorized, err)
	}
	var sink io.Writer = check
	var head *capBuffer // a small body's bytes, to tell a signed handshake
	if hs != nil {
		head = &capBuffer{max: maxHandshake}
		sink = io.MultiWriter(check, head)
	}
	body, err := v.route.body(w, r, sink)
	if err != nil {
		v.route.observe(start, err)
		return err
	}
	res, err := check.Finish()
	if err != nil {
		// Only now, and only if the route lists an expired secret, is
		// the body hashed again: a sender still on a retired secret is
		// told so (expired_secret), and a request that passes costs
		// nothing more for it.
		err = check.MatchExpired(err, bodyReader(body))
		v.route.observe(start, err)
		body.Release() // nothing of a failed request goes on
		return v.route.refuse(r, http.StatusUnauthorized, err)
	}
	if head != nil && !head.over {
		// A verified handshake (Slack's url_verification, Twitch's
		// callback verification): answered here when only this handler
		// can (Zoom's needs the secret) or the route says handshake
		// answer, else passed on like any verified webhook.
		hreq := req
		if ans := hs.Signed(&hreq, head.buf, v.matchedKey(res)); ans != nil && (ans.Gateway || v.Handshake == "answer" || v.relayed) {
			body.Release()
			v.route.observe(start, nil)
			v.route.count("handshake", res.Key)
			return writeAnswer(w, ans)
		}
	}
	restoreBody(r, body)
	defer body.Release()
	v.route.observe(start, nil)
	// What goes on is what was verified: no other header set, no
	// look-alike of a verified header that a CGI-style back end would
	// fold into it, and no Connection header that would make
	// reverse_proxy drop the verified headers as hop-by-hop.
	v.route.scheme.DropUnverified(r.Header, res.Headers)
	unlistOwned(r.Header, v.protect)
	for _, h := range v.strip {
		r.Header.Del(h)
	}
	repl.Set("http.webhook.verified", true)
	repl.Set("http.webhook.scheme", v.Scheme)
	repl.Set("http.webhook.id", res.ID)
	repl.Set("http.webhook.timestamp", res.Timestamp)
	repl.Set("http.webhook.key", res.Key)
	// For a webhook_sign further on: a re-signed webhook keeps its id.
	markVerified(r, v.Scheme, res)
	if v.replay != nil {
		// Counted there: verified, or a duplicate not passed on.
		return v.serveReplay(w, r, next, res, repl)
	}
	v.route.count("verified", res.Key)
	return next.ServeHTTP(w, r)
}

// bodyReader reads body from its start: a body that was read and not yet
// given to the next handler. nil is an empty body.
func bodyReader(body *spool.Body) io.Reader {
	if body == nil {
		return http.NoBody
	}
	return body
}

// Interface guards
var (
	_ caddy.Provisioner           = (*WebhookVerify)(nil)
	_ caddy.Validator             = (*WebhookVerify)(nil)
	_ caddy.CleanerUpper          = (*WebhookVerify)(nil)
	_ caddyhttp.MiddlewareHandler = (*WebhookVerify)(nil)
	_ caddyfile.Unmarshaler       = (*WebhookVerify)(nil)
)

// maxHandshake is the largest body read as a handshake: senders' are a few
// hundred bytes.
const maxHandshake = 64 << 10

// capBuffer keeps what is written to it up to max bytes, and notes if
// more came.
type capBuffer struct {
	max  int
	buf  []byte
	over bool
}

func (c *capBuffer) Write(p []byte) (int, error) {
	if !c.over {
		if len(c.buf)+len(p) > c.max {
			c.over, c.buf = true, nil
		} else {
			c.buf = append(c.buf, p...)
		}
	}
	return len(p), nil
}

// matchedKey is the key a request verified with, for a handshake that
// answers with it (Zoom's).
func (v *WebhookVerify) matchedKey(res verifier.Result) *verifier.Key {
	if res.KeyIndex >= 0 && res.KeyIndex < len(v.checked) {
		return &v.checked[res.KeyIndex]
	}
	return &verifier.Key{}
}

// writeAnswer sends a handshake's answer.
func writeAnswer(w http.ResponseWriter, ans *scheme.Answer) error {
	for k, vals := range ans.Header {
		w.Header()[k] = vals
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(ans.Body)))
	w.WriteHeader(ans.Status)
	_, err := w.Write(ans.Body)
	return err
}
