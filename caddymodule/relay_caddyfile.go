package caddymodule

import (
	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/caddyconfig/httpcaddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy"

	"github.com/hookguard/hookguard/preset"
)

func init() {
	httpcaddyfile.RegisterHandlerDirective("webhook_relay", parseRelay)
	// A terminal handler, after webhook_verify and webhook_sign, without
	// the user writing an order line. RegisterDirectiveOrder takes only a
	// standard directive as the anchor: before reverse_proxy, registered
	// after webhook_sign's (caddyfile.go's init runs first), it lands
	// right after webhook_sign.
	httpcaddyfile.RegisterDirectiveOrder("webhook_relay", httpcaddyfile.Before, "reverse_proxy")
}

func parseRelay(h httpcaddyfile.Helper) (caddyhttp.MiddlewareHandler, error) {
	r := new(WebhookRelay)
	err := r.UnmarshalCaddyfile(h.Dispenser)
	return r, err
}

const relaySubdirectives = "sign, retry, max_age, timeout, store, max_queued, max_body, name, transport"

// UnmarshalCaddyfile sets up the handler from Caddyfile tokens. Syntax:
//
//	webhook_relay [<matcher>] <url> {
//		sign        <scheme> <secret>...  # signs each attempt afresh; key-pair schemes take private keys
//		retry       <d1> <d2> ...          # default 10s 1m 5m 30m 2h 6h 12h 24h, jittered
//		max_age     <duration>             # then dead-lettered; default 72h
//		timeout     <duration>             # per attempt; default 30s
//		store       bbolt [<path>] | redis { address ... username ... password ... tls prefix ... }
//		max_queued  <size>                 # bytes held for this route; when full: 503 with Retry-After
//		max_body    <size>                 # default 25MiB
//		name        <name>
//		transport   http { tls_trust_pool ... | tls_server_name ... | tls_insecure_skip_verify }
//	}
func (h *WebhookRelay) UnmarshalCaddyfile(d *caddyfile.Dispenser) error {
	book := lineBook{}
	d.Next() // directive name
	if !d.NextArg() {
		return d.Err("webhook_relay needs the URL to deliver to: webhook_relay http://localhost:3000")
	}
	h.URL = d.Val()
	at := *d
	if d.NextArg() {
		return d.Errf("webhook_relay takes one URL; put options in a block")
	}
	for d.NextBlock(0) {
		sub := d.Val()
		if err := book.mark(d, sub, false); err != nil {
			return err
		}
		switch sub {
		case "sign":
			if !d.NextArg() {
				return d.Err("sign needs a scheme and its secret: sign standard {file./etc/caddy/webhook.secret}")
			}
			h.Sign = &RelaySign{Scheme: d.Val()}
			s, err := preset.Get(h.Sign.Scheme, preset.Options{})
			if err != nil {
				return d.Errf("sign: %v", err)
			}
			for d.NextArg() {
				if s.Asymmetric() {
					h.Sign.PrivateKeys = append(h.Sign.PrivateKeys, Secret{Value: d.Val()})
				} else {
					h.Sign.Secrets = append(h.Sign.Secrets, Secret{Value: d.Val()})
				}
			}
		case "retry":
			h.Retry = nil
			for d.NextArg() {
				dur, err := caddy.ParseDuration(d.Val())
				if err != nil {
					return d.Errf("retry: %q is not a duration; write e.g. retry 10s 1m 5m 30m", d.Val())
				}
				h.Retry = append(h.Retry, caddy.Duration(dur))
			}
			if len(h.Retry) == 0 {
				return d.Err("retry needs at least one duration, e.g. retry 10s 1m 5m")
			}
		case "max_age", "timeout":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			dur, err := caddy.ParseDuration(arg)
			if err != nil {
				return d.Errf("%s: %q is not a duration; write e.g. 72h or 30s", sub, arg)
			}
			if sub == "max_age" {
				h.MaxAge = caddy.Duration(dur)
			} else {
				h.Timeout = caddy.Duration(dur)
			}
		case "max_queued", "max_body":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			size, err := parseSize(arg)
			if err != nil {
				return d.Errf("%s: %q is not a size; write e.g. 1GiB or 25MiB", sub, arg)
			}
			if sub == "max_queued" {
				h.MaxQueued = size
			} else {
				h.MaxBody = size
			}
		case "name":
			arg, err := oneArg(d)
			if err != nil {
				return err
			}
			h.Name = arg
		case "store":
			st, err := parseRelayStore(d)
			if err != nil {
				return err
			}
			h.Store = st
		case "transport":
			if !d.NextArg() || d.Val() != "http" {
				return d.Err("transport: only transport http { ... } is supported, as reverse_proxy's")
			}
			t := new(reverseproxy.HTTPTransport)
			if err := t.UnmarshalCaddyfile(d.NewFromNextSegment()); err != nil {
				return err
			}
			h.TransportRaw = caddyconfig.JSONModuleObject(t, "protocol", "http", nil)
		default:
			return d.Errf("unknown subdirective %q in webhook_relay; valid ones: %s", sub, relaySubdirectives)
		}
		if d.NextArg() {
			return d.Errf("%s: unexpected argument %q", sub, d.Val())
		}
	}
	if err := h.Validate(); err != nil {
		return book.errorAt(&at, err)
	}
	return nil
}

func parseRelayStore(d *caddyfile.Dispenser) (*RelayStore, error) {
	st := new(RelayStore)
	if !d.NextArg() {
		return nil, d.Err("store needs a kind: store bbolt [<path>] or store redis { address ... }")
	}
	st.Kind = d.Val()
	if st.Kind == "bbolt" && d.NextArg() {
		st.Path = d.Val()
	}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		opt := d.Val()
		if opt == "tls" {
			st.TLS = true
			continue
		}
		arg, err := oneArg(d)
		if err != nil {
			return nil, err
		}
		switch opt {
		case "address":
			st.Address = arg
		case "username":
			st.Username = arg
		case "password":
			st.Password = arg
		case "prefix":
			st.Prefix = arg
		default:
			return nil, d.Errf("unknown store option %q; store redis takes address, username, password, tls, prefix", opt)
		}
	}
	return st, nil
}

// Interface guard
var _ caddyfile.Unmarshaler = (*WebhookRelay)(nil)
