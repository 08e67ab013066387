package caddymodule

import (
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/dustin/go-humanize"

	"github.com/hookguard/hookguard/verifier"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("webhook_verify", parseVerify)
	// After request_body (which may cap the body first), before any auth
	// or proxying, without the user writing an order line.
	httpcaddyfile.RegisterDirectiveOrder("webhook_verify", httpcaddyfile.Before, "basic_auth")
}

func parseVerify(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	v := new(Verify)
	err := v.UnmarshalCaddyfile(h.Dispenser)
	return v, err
}

const verifySubdirectives = "secret, tolerance, max_body, legacy_sha1, strip_signature, insecure_unsigned, header, algorithm, encoding, prefix, signed_content, timestamp_header, id_header"

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	webhook_verify [<matcher>] <scheme> [<secret>] {
//		secret      <secret> [label <name>] [not_after <RFC 3339 time>]
//		tolerance   <duration>
//		max_body    <size>
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
func (v *Verify) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	d.Next() // directive name
	if !d.NextArg() {
		return d.Errf("webhook_verify needs a scheme: write webhook_verify <scheme> <secret>, with a scheme among %s, hmac, token", verifier.PresetList())
	}
	v.Scheme = d.Val()
	line := d.Line()
	if v.Scheme != "hmac" && v.Scheme != "token" {
		if _, err := verifier.Preset(v.Scheme, verifier.Options{}); err != nil {
			return d.Errf("%v", err)
		}
	}
	if d.NextArg() {
		v.Secrets = append(v.Secrets, Secret{Value: d.Val()})
	}
	if d.NextArg() {
		return d.Errf("unexpected argument %q: webhook_verify takes <scheme> [<secret>]; put options in a block", d.Val())
	}
	for d.NextBlock(0) {
		sub := d.Val()
		switch sub {
		case "secret":
			sec, err := parseSecret(d)
			if err != nil {
				return err
			}
			v.Secrets = append(v.Secrets, sec)
		case "tolerance":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(arg)
			if err != nil || dur < 0 {
				return d.Errf("tolerance: %q is not a duration; write e.g. 5m or 300s, or 0 to switch the timestamp check off", arg)
			}
			cd := caddy.Duration(dur)
			v.Tolerance = &cd
		case "max_body":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			size, err := humanize.ParseBytes(arg)
			if err != nil || size == 0 || size > 1<<40 {
				return d.Errf("max_body: %q is not a size; write e.g. 25MiB or 512KB", arg)
			}
			v.MaxBody = int64(size)
		case "legacy_sha1":
			v.LegacySHA1 = true
		case "strip_signature":
			v.StripSignature = true
		case "insecure_unsigned":
			v.InsecureUnsigned = true
		case "header", "algorithm", "encoding", "prefix", "signed_content", "timestamp_header", "id_header":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			*map[string]*string{
				"header": &v.Header, "algorithm": &v.Algorithm, "encoding": &v.Encoding, "prefix": &v.Prefix,
				"signed_content": &v.SignedContent, "timestamp_header": &v.TimestampHeader, "id_header": &v.IDHeader,
			}[sub] = arg
		default:
			return d.Errf("unknown subdirective %q in webhook_verify; valid ones: %s", sub, verifySubdirectives)
		}
		if d.NextArg() && sub != "secret" {
			return d.Errf("%s takes no further arguments (got %q)", sub, d.Val())
		}
	}

	// Check here what can be checked without secrets, so errors carry the
	// Caddyfile line.
	s, err := buildScheme(v.Scheme, v.generic(), verifier.Options{LegacySHA1: v.LegacySHA1})
	if err != nil {
		return caddyfileErr(d, line, err.Error())
	}
	if v.Tolerance != nil && !s.Timestamped() {
		return caddyfileErr(d, line, "tolerance has no effect: scheme "+v.Scheme+" carries no signed timestamp; remove it")
	}
	if len(v.Secrets) == 0 && !v.InsecureUnsigned {
		return caddyfileErr(d, line, "webhook_verify "+v.Scheme+" needs a secret: write webhook_verify "+v.Scheme+" {env.WEBHOOK_SECRET}, or add insecure_unsigned for development only")
	}
	return nil
}

func caddyfileErr(d *caddyfile.Dispenser, line int, msg string) error {
	return d.Errf("%s (webhook_verify on line %d)", msg, line)
}

// parseSecret parses: secret <value> [label <name>] [not_after <time>].
func parseSecret(d *caddyfile.Dispenser) (Secret, error) {
	if !d.NextArg() {
		return Secret{}, d.Errf("secret needs a value: write secret {env.WEBHOOK_SECRET}")
	}
	sec := Secret{Value: d.Val()}
	for d.NextArg() {
		opt := d.Val()
		if !d.NextArg() {
			return sec, d.Errf("secret option %s needs a value", opt)
		}
		switch opt {
		case "label":
			sec.Label = d.Val()
		case "not_after":
			if _, err := time.Parse(time.RFC3339, d.Val()); err != nil {
				return sec, d.Errf("not_after %q is not an RFC 3339 time; write e.g. 2026-12-31T23:59:59Z", d.Val())
			}
			sec.NotAfter = d.Val()
		default:
			return sec, d.Errf("unknown secret option %q; write secret <value> [label <name>] [not_after <RFC 3339 time>]", opt)
		}
	}
	if strings.TrimSpace(sec.Value) == "" {
		return sec, d.Errf("secret is empty")
	}
	return sec, nil
}

func oneArg(d *caddyfile.Dispenser) (string, error) {
	sub := d.Val()
	if !d.NextArg() {
		return "", d.Errf("%s needs a value", sub)
	}
	return d.Val(), nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*Verify)(nil)
