package caddymodule

import (
	"errors"
	"math"
	"strconv"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/hookguard/hookguard/preset"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("webhook_verify", parseVerify)
	// After request_body (which may cap the body first), before any auth
	// or proxying, without the user writing an order line.
	httpcaddyfile.RegisterDirectiveOrder("webhook_verify", httpcaddyfile.Before, "basic_auth")
	httpcaddyfile.RegisterHandlerDirective("webhook_sign", parseSign)
	httpcaddyfile.RegisterDirectiveOrder("webhook_sign", httpcaddyfile.Before, "reverse_proxy")
}

func parseVerify(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	v := new(WebhookVerify)
	err := v.UnmarshalCaddyfile(h.Dispenser)
	return v, err
}

func parseSign(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	s := new(WebhookSign)
	err := s.UnmarshalCaddyfile(h.Dispenser)
	return s, err
}

const (
	sharedSubdirectives = "secret, max_body, buffer_memory, read_timeout, name, insecure_unsigned, header, algorithm, encoding, prefix, signed_content, timestamp_header, id_header"
	verifySubdirectives = "public_key, tolerance, public_url, handshake, legacy_sha1, strip_signature, replay, " + sharedSubdirectives
	signSubdirectives   = "private_key, public_url, keep_header, " + sharedSubdirectives
)

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	webhook_verify [<matcher>] <scheme> [<secret>] {
//		secret      <secret> [label <name>] [not_after <RFC 3339 time>]
//		public_key  <key> [label <name>] [not_after <RFC 3339 time>]  # asymmetric schemes (discord, sendgrid, standard-v1a, ...)
//		tolerance   <duration>
//		public_url  <scheme://host[:port]>  # URL-signing schemes behind another proxy or a tunnel
//		handshake   answer|pass             # signed handshakes: answered here, or passed to the app (default)
//		max_body    <size>
//		buffer_memory <size>      # bodies held in memory by this route at once; default 64MiB, the rest spooled to temp files
//		read_timeout  <duration>  # time a client has to send its body; default 30s, then 408
//		name        <route name for logs and metrics>
//		legacy_sha1
//		strip_signature
//		insecure_unsigned
//
//		# generic schemes (hmac, token) describe themselves:
//		header           <name>
//		algorithm        sha1|sha256|sha512
//		encoding         hex|base64|base64url
//		prefix           <text>
//		signed_content   <template of {body}, {timestamp}, {id} and text>
//		timestamp_header <name>
//		id_header        <name>
//	}
//
// Secrets are best given as {env.NAME} or {file./path}: {$NAME} would be
// substituted when the Caddyfile is adapted, putting the secret itself in
// the JSON config that the admin API serves.
func (v *WebhookVerify) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	book := lineBook{}
	at, err := parseHead(d, "webhook_verify", &v.Scheme, &v.Secrets, &v.PublicKeys, book)
	if err != nil {
		return err
	}
	for d.NextBlock(0) {
		sub := d.Val()
		if err := book.mark(d, sub, sub == "secret" || sub == "public_key"); err != nil {
			return err
		}
		switch sub {
		case "public_key":
			k, err := parseSecret(d)
			if err != nil {
				return err
			}
			v.PublicKeys = append(v.PublicKeys, k)
		case "public_url":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			v.PublicURL = arg
		case "handshake":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			v.Handshake = arg
		case "tolerance":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(arg)
			if err != nil {
				return d.Errf("tolerance: %q is not a duration; write e.g. 5m or 300s, or 0 to switch the timestamp check off", arg)
			}
			cd := caddy.Duration(dur)
			v.Tolerance = &cd
		case "legacy_sha1":
			v.LegacySHA1 = true
		case "strip_signature":
			v.StripSignature = true
		case "replay":
			rc, err := parseReplay(d, book)
			if err != nil {
				return err
			}
			v.Replay = rc
		default:
			ok, err := parseShared(d, shared{&v.Secrets, &v.MaxBody, &v.Name, &v.InsecureUnsigned, &v.SchemeFields, &v.BodyOptions})
			if err != nil {
				return err
			}
			if !ok {
				return d.Errf("unknown subdirective %q in webhook_verify; valid ones: %s", sub, verifySubdirectives)
			}
		}
		if d.NextArg() {
			return d.Errf("%s: unexpected argument %q", sub, d.Val())
		}
	}

	// The checks a JSON config gets at load, here so that the error
	// carries the directive's line.
	if err := v.Validate(); err != nil {
		return book.errorAt(at, err)
	}
	return nil
}

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	webhook_sign [<matcher>] <scheme> [<secret>] {
//		secret      <secret> [label <name>] [not_after <RFC 3339 time>]
//		max_body    <size>
//		buffer_memory <size>      # bodies held in memory by this route at once; default 64MiB, the rest spooled to temp files
//		read_timeout  <duration>  # time a client has to send its body; default 30s, then 408
//		name        <route name for logs and metrics>
//		private_key <key> [label <name>] [not_after <RFC 3339 time>]  # key-pair schemes (standard-v1a)
//		public_url  <scheme://host[:port]>  # where the receiver is called: required by URL-signing schemes
//		keep_header Authorization|Cookie|Proxy-Authorization   # repeatable
//		insecure_unsigned
//
//		# the generic hmac scheme describes itself:
//		header           <name>
//		algorithm        sha1|sha256|sha512
//		encoding         hex|base64|base64url
//		prefix           <text>
//		signed_content   <template of {body}, {timestamp}, {id} and text>
//		timestamp_header <name>
//		id_header        <name>
//	}
//
// webhook_sign signs whatever it is sent: never serve it to the public.
// Put relay routes on a site bound to loopback (bind 127.0.0.1 ::1) or
// behind a caller restriction (@internal remote_ip private_ranges, then
// handle @internal { ... }), or after webhook_verify. Otherwise anyone who
// reaches the site can have webhooks of their choosing signed with your
// secret; a route with neither logs an "open signing relay" warning at
// load.
//
// The default scheme for new integrations is standard (Standard Webhooks).
// Whether the receiver's TLS certificate is verified is reverse_proxy's
// business: set it per route with transport http { tls_trust_pool ... }
// or tls_insecure_skip_verify.
//
// The caller's Authorization, Cookie and Proxy-Authorization headers are
// removed before the request goes on; keep_header keeps one of them, and
// reverse_proxy's header_up -<name> removes any other header.
func (s *WebhookSign) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	book := lineBook{}
	at, err := parseHead(d, "webhook_sign", &s.Scheme, &s.Secrets, &s.PrivateKeys, book)
	if err != nil {
		return err
	}
	for d.NextBlock(0) {
		sub := d.Val()
		if err := book.mark(d, sub, sub == "secret" || sub == "keep_header" || sub == "private_key"); err != nil {
			return err
		}
		switch sub {
		case "private_key":
			k, err := parseSecret(d)
			if err != nil {
				return err
			}
			s.PrivateKeys = append(s.PrivateKeys, k)
		case "public_url":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			s.PublicURL = arg
		case "keep_header":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			s.KeepHeaders = append(s.KeepHeaders, arg)
		default:
			ok, err := parseShared(d, shared{&s.Secrets, &s.MaxBody, &s.Name, &s.InsecureUnsigned, &s.SchemeFields, &s.BodyOptions})
			if err != nil {
				return err
			}
			if !ok {
				return d.Errf("unknown subdirective %q in webhook_sign; valid ones: %s", sub, signSubdirectives)
			}
		}
		if d.NextArg() {
			return d.Errf("%s: unexpected argument %q", sub, d.Val())
		}
	}
	if err := s.Validate(); err != nil {
		return book.errorAt(at, err)
	}
	return nil
}

// parseHead parses "<directive> <scheme> [<secret>]" and returns a copy of
// d positioned on the scheme, for errors found once the block is read: they
// must name the directive's line (and import chain), not the line of the
// block's closing brace where d then is.
func parseHead(d *caddyfile.Dispenser, directive string, scheme *string, secrets, keys *[]Secret, book lineBook) (*caddyfile.Dispenser, error) {
	d.Next() // directive name
	if !d.NextArg() {
		return nil, d.Errf("%s needs a scheme: write %s <scheme> <secret>, with a scheme among %s, hmac, token", directive, directive, preset.List())
	}
	*scheme = d.Val()
	at := *d
	word := "secret"
	if *scheme != "hmac" && *scheme != "token" {
		s, err := preset.Get(*scheme, preset.Options{})
		if err != nil {
			return nil, d.Errf("%v", err)
		}
		if s.Asymmetric() {
			// The one argument after the scheme is its key.
			secrets, word = keys, keyWord(directive)
		}
	}
	if d.NextArg() {
		*secrets = append(*secrets, Secret{Value: d.Val()})
		_ = book.mark(d, word, true) // repeatable: cannot fail
	}
	if d.NextArg() {
		// Not quoted: it may be the rest of a secret with a space in it
		// (a {$VAR} is substituted before the Caddyfile is parsed).
		return nil, d.Errf("unexpected argument after the secret: %s takes <scheme> [<secret>]; put options in a block (a secret with a space, e.g. from a {$VAR}, must be quoted; better, use {env.VAR} or {file./path})", directive)
	}
	return &at, nil
}

// parseShared handles the subdirectives webhook_verify and webhook_sign
// have in common; it reports whether the current one was among them.
// shared points at the fields both directives have.
type shared struct {
	secrets  *[]Secret
	maxBody  *int64
	name     *string
	unsigned *bool
	scheme   *SchemeFields
	body     *BodyOptions
}

func parseShared(d *caddyfile.Dispenser, f shared) (bool, error) {
	sub := d.Val()
	switch sub {
	case "secret":
		sec, err := parseSecret(d)
		if err != nil {
			return true, err
		}
		*f.secrets = append(*f.secrets, sec)
	case "name":
		arg, err := oneArg(d)
		if err != nil {
			return true, err
		}
		*f.name = arg
	case "max_body":
		arg, err := oneArg(d)
		if err != nil {
			return true, err
		}
		size, err := parseSize(arg)
		if err != nil {
			return true, d.Errf("max_body: %q is not a size; write e.g. 25MiB or 512KB", arg)
		}
		*f.maxBody = size
	case "buffer_memory":
		arg, err := oneArg(d)
		if err != nil {
			return true, err
		}
		size, err := parseSize(arg)
		if err != nil {
			return true, d.Errf("buffer_memory: %q is not a size; write e.g. 64MiB or 512KB (bodies held in memory by this route at once)", arg)
		}
		f.body.BufferMemory = size
	case "read_timeout":
		arg, err := oneArg(d)
		if err != nil {
			return true, err
		}
		dur, err := caddy.ParseDuration(arg)
		if err != nil || dur == 0 {
			return true, d.Errf("read_timeout: %q is not a positive duration; write e.g. 30s or 2m", arg)
		}
		f.body.ReadTimeout = caddy.Duration(dur)
	case "insecure_unsigned":
		*f.unsigned = true
	default:
		field := f.scheme.field(sub)
		if field == nil {
			return false, nil
		}
		arg, err := oneArg(d)
		if err != nil {
			return true, err
		}
		*field = arg
	}
	return true, nil
}

// parseReplay parses:
//
//	replay [memory|redis] {
//		window      <duration>
//		max_entries <n>             # memory
//		address     <host:port|redis://...|rediss://...>   # redis
//		username    <name>
//		password    <password>      # {env.X} or {file./path}
//		tls
//		prefix      <text>
//		fail_open
//	}
func parseReplay(d *caddyfile.Dispenser, book lineBook) (*Replay, error) {
	rc := new(Replay)
	if d.NextArg() {
		rc.Store = d.Val()
		if d.NextArg() {
			return nil, d.Errf("replay: unexpected argument %q; put options in a block", d.Val())
		}
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if err := book.mark(d, "replay "+opt, false); err != nil {
			return nil, err
		}
		switch opt {
		case "tls":
			rc.TLS = true
		case "fail_open":
			rc.FailOpen = true
		case "window":
			arg, err := oneArg(d)
			if err != nil {
				return nil, err
			}
			dur, err := caddy.ParseDuration(arg)
			if err != nil || dur == 0 {
				return nil, d.Errf("replay window: %q is not a positive duration; write e.g. 24h", arg)
			}
			rc.Window = caddy.Duration(dur)
		case "max_entries":
			arg, err := oneArg(d)
			if err != nil {
				return nil, err
			}
			n, err := strconv.Atoi(arg)
			if err != nil || n == 0 {
				return nil, d.Errf("replay max_entries: %q is not a positive whole number; write e.g. 100000", arg)
			}
			rc.MaxEntries = n
		case "address", "username", "password", "prefix":
			arg, err := oneArg(d)
			if err != nil {
				return nil, err
			}
			*map[string]*string{"address": &rc.Address, "username": &rc.Username, "password": &rc.Password, "prefix": &rc.Prefix}[opt] = arg
		default:
			return nil, d.Errf("unknown replay option %q; valid ones: window, max_entries (memory), address, username, password, tls, prefix, fail_open (redis)", opt)
		}
		if d.NextArg() {
			return nil, d.Errf("replay %s: unexpected argument %q", opt, d.Val())
		}
	}
	return rc, nil
}

// parseSecret parses: secret <value> [label <name>] [not_after <time>].
func parseSecret(d *caddyfile.Dispenser) (Secret, error) {
	if !d.NextArg() {
		return Secret{}, d.Errf("secret needs a value: write secret {env.WEBHOOK_SECRET}")
	}
	sec := Secret{Value: d.Val()}
	if (sec.Value == "label" || sec.Value == "not_after") && d.NextArg() {
		// {$VAR} is replaced before the Caddyfile is parsed, and an unset
		// one leaves no token at all: the option name is next.
		return sec, d.Errf("secret has no value before %s (did a {$VAR} expand to nothing? write {env.VAR}, which fails the load when unset)", sec.Value)
	}
	for d.NextArg() {
		opt := d.Val()
		// The option is not quoted in errors: after a {$VAR} with a
		// space in it, it is part of the secret.
		if !d.NextArg() {
			return sec, d.Errf("a secret option needs a value; write secret <value> [label <name>] [not_after <RFC 3339 time>] (a secret with a space, e.g. from a {$VAR}, must be quoted; better, use {env.VAR} or {file./path})")
		}
		var field *string
		switch opt {
		case "label":
			field = &sec.Label
		case "not_after":
			field = &sec.NotAfter
		default:
			return sec, d.Errf("unknown secret option; write secret <value> [label <name>] [not_after <RFC 3339 time>] (a secret with a space, e.g. from a {$VAR}, must be quoted; better, use {env.VAR} or {file./path})")
		}
		if *field != "" {
			return sec, d.Errf("secret option %s is given twice; give it once", opt)
		}
		*field = d.Val()
	}
	return sec, nil
}

// field returns the field that a generic-scheme subdirective sets.
func (g *SchemeFields) field(sub string) *string {
	return map[string]*string{
		"header": &g.Header, "algorithm": &g.Algorithm, "encoding": &g.Encoding, "prefix": &g.Prefix,
		"signed_content": &g.SignedContent, "timestamp_header": &g.TimestampHeader, "id_header": &g.IDHeader,
	}[sub]
}

// parseSize parses a size such as 25MiB; Validate judges its range.
func parseSize(arg string) (int64, error) {
	size, err := humanize.ParseBytes(arg)
	if err != nil {
		return 0, err
	}
	if size == 0 || size > math.MaxInt64 {
		return 0, errors.New("out of range")
	}
	return int64(size), nil
}

// lineBook remembers where each option of a directive was given: to
// refuse a single-valued one given twice rather than let the last one win,
// and to point a validation error at the line of the option it is about.
type lineBook map[string][]caddyfile.Dispenser

// mark records the current token as where field was given, and fails if
// it was given before, unless the field is repeatable.
func (b lineBook) mark(d *caddyfile.Dispenser, field string, repeatable bool) error {
	if prev := b[field]; len(prev) > 0 && !repeatable {
		return d.Errf("%s is given twice (first on line %d); give it once", field, prev[0].Line())
	}
	b[field] = append(b[field], *d)
	return nil
}

// errorAt returns a validation error as a Caddyfile error on the line of
// the option it is about, or else on the directive's line (at).
func (b lineBook) errorAt(at *caddyfile.Dispenser, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		i := max(fe.n-1, 0)
		if given := b[fe.field]; i < len(given) {
			d := given[i]
			return d.Err(err.Error())
		}
	}
	return at.Err(err.Error())
}

func oneArg(d *caddyfile.Dispenser) (string, error) {
	sub := d.Val()
	if !d.NextArg() {
		return "", d.Errf("%s needs a value", sub)
	}
	return d.Val(), nil
}

// keyWord is the subdirective that gives an asymmetric scheme's keys.
func keyWord(directive string) string {
	if directive == "webhook_sign" {
		return "private_key"
	}
	return "public_key"
}
