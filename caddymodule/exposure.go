package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"reflect"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// This file answers one question at load, for the warning that WebhookSign's
// Provision logs: can anyone who reaches this server have webhooks of their
// choosing signed by this webhook_sign handler (an open signing relay)?
//
// It looks at the config as Caddy provisions it. During Provision,
// ctx.Modules() is the chain of modules being provisioned (the http app,
// the subroute handlers that enclose this one, this handler), the server is
// ctx.Value(caddyhttp.ServerCtxKey), and each route list is provisioned in
// order: all its matchers first, then route by route its handlers. A route
// whose handlers are loaded has HandlersRaw nil (LoadModule zeroes it), so
// the route being provisioned in a list is the first with HandlersRaw set.
// That lets it walk from the server's routes down to this handler's route.
//
// What it sees, on that chain of routes:
//   - a caller restriction: every matcher set of a route on the chain has a
//     remote_ip matcher whose ranges are all loopback, private (RFC 1918),
//     link-local or unique-local (IPv6 fc00::/7), as remote_ip
//     private_ranges gives, or such a client_ip matcher on a server that
//     trusts no proxies; or the server listens only on loopback addresses
//     or unix sockets (bind 127.0.0.1 ::1);
//   - a webhook_verify before it: a webhook_verify handler (not one that
//     lets requests through unverified) in a route without matchers
//     that comes earlier in a list on the chain, or earlier among the
//     handlers of a route on the chain (before the subroute that leads on,
//     or before the first webhook_sign).
//
// What it cannot see, and so warns about (it fails towards the warning):
// a webhook_verify or an IP matcher behind its own matcher (a rewrite in
// between can make a request skip it), inside a not, or in an earlier
// subroute; restrictions made by other modules (forward_auth, basic_auth,
// a firewall, a listener wrapper); a bind to a host name (even
// localhost); a handler in handle_errors or a named route; and any config
// shape it does not recognise. It also cannot tell that a route is
// unreachable. A warning is advice, never an error: the operator may know
// better.
//
// client_ip is the connection's address only while the server trusts no
// proxies. With trusted_proxies (or trusted_proxies_unix), a connection
// from a trusted proxy gets its client_ip from X-Forwarded-For (or
// client_ip_headers), which a proxy may pass on as the client wrote it, or
// which a client inside the trusted ranges writes itself: there a client_ip
// matcher is no restriction, and the warning says why.
// trusted_proxies_strict does not change that: reading the header from the
// right is safe only if every proxy in front appends the address it saw,
// which the config cannot tell. When handlers are provisioned the http app
// has already loaded trusted_proxies, which zeroes TrustedProxiesRaw and
// sets the server's unexported trustedProxies; that field is read by
// reflection, and if it is not there (a later Caddy) proxies count as
// trusted, towards the warning.
//
// What it cannot see and so does NOT warn about: a load balancer, tunnel
// or proxy in front on a private network, which makes every client look
// internal to remote_ip private_ranges; the README says so.

// exposure reports why s, being provisioned in ctx, may be an open signing
// relay, or "" if a webhook_verify runs before it or its callers are
// restricted.
func exposure(ctx caddy.Context, s caddy.Module, handler string) string {
	srv, ok := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if !ok || srv == nil {
		return "it is not in an HTTP server's routes, so its callers cannot be seen"
	}
	if internalListeners(srv.Listen) {
		return ""
	}

	// The enclosing subroutes, outermost first, between the http app and s.
	mods := ctx.Modules()
	if len(mods) == 0 || mods[len(mods)-1] != s {
		return "the chain of modules being loaded does not end with this handler"
	}
	first := len(mods) - 1
	for first > 0 {
		if _, ok := mods[first-1].(*caddyhttp.Subroute); !ok {
			break
		}
		first--
	}
	if first == 0 {
		return "the http app is not among the modules being loaded"
	}
	if _, ok := mods[first-1].(*caddyhttp.App); !ok {
		return fmt.Sprintf("it is inside a %T, whose routes cannot be seen", mods[first-1])
	}
	subroutes := mods[first : len(mods)-1]

	clientIP := !trustsForwarded(srv)
	spoofable := false // a client_ip matcher would restrict a route on the chain
	routes := srv.Routes
	for level := 0; ; level++ {
		cur := -1
		for i := range routes {
			if routes[i].HandlersRaw != nil {
				cur = i
				break
			}
		}
		if cur < 0 {
			return "its route was not found among the server's routes (handle_errors, a named route?)"
		}
		r := routes[cur]
		if restrictsCallers(r.MatcherSets, clientIP) {
			return ""
		}
		spoofable = spoofable || restrictsCallers(r.MatcherSets, true)
		for _, earlier := range routes[:cur] {
			if len(earlier.MatcherSets) == 0 && verifies(earlier.Handlers) {
				return ""
			}
		}
		last := level == len(subroutes)
		next := "subroute"
		if last {
			next = handler
		}
		if verifiesBefore(r.HandlersRaw, next) {
			return ""
		}
		if last {
			break
		}
		routes = subroutes[level].(*caddyhttp.Subroute).Routes
	}
	if spoofable {
		return "no webhook_verify runs before it, and its client_ip matcher does not restrict its callers: " +
			"client_ip trusts X-Forwarded-For from trusted_proxies, so a client can claim an internal address (remote_ip cannot be claimed)"
	}
	return "no webhook_verify runs before it, and neither a remote_ip/client_ip matcher for internal ranges nor a loopback-only listener restricts its callers"
}

// internalListeners reports whether every address the server listens on is
// a loopback address or a unix socket.
func internalListeners(listen []string) bool {
	if len(listen) == 0 {
		return false
	}
	for _, l := range listen {
		na, err := caddy.ParseNetworkAddress(l)
		if err != nil {
			return false
		}
		if na.IsUnixNetwork() {
			continue
		}
		ip, err := netip.ParseAddr(na.Host)
		if err != nil || !ip.Unmap().IsLoopback() {
			return false
		}
	}
	return true
}

// trustsForwarded reports whether client_ip on srv may come from a request
// header (X-Forwarded-For, or client_ip_headers) rather than from the
// connection: whether the server has trusted_proxies, or trusts unix socket
// peers. It is meant for the time handlers are provisioned, when
// trusted_proxies is loaded into an unexported field; if that field cannot
// be read, it answers true.
func trustsForwarded(srv *caddyhttp.Server) bool {
	if srv.TrustedProxiesRaw != nil || srv.TrustedProxiesUnix {
		return true
	}
	f := reflect.ValueOf(srv).Elem().FieldByName("trustedProxies")
	return !f.IsValid() || f.Kind() != reflect.Interface || !f.IsNil()
}

// restrictsCallers reports whether every matcher set (they are ORed) holds
// a remote_ip matcher, or if clientIP a client_ip matcher, for internal
// ranges only.
func restrictsCallers(sets caddyhttp.MatcherSets, clientIP bool) bool {
	if len(sets) == 0 {
		return false
	}
	for _, set := range sets {
		ok := false
		for _, m := range set {
			switch m := m.(type) {
			case *caddyhttp.MatchRemoteIP:
				ok = ok || internalRanges(m.Ranges)
			case *caddyhttp.MatchClientIP:
				ok = ok || (clientIP && internalRanges(m.Ranges))
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// internal are the ranges a caller restriction may allow: loopback,
// private (RFC 1918), link-local, and IPv6 unique-local.
var internal = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16",
		"::1/128", "fe80::/10", "fc00::/7",
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// internalRanges reports whether ranges (as remote_ip takes them: an
// address or a CIDR, optionally with a %zone) are all inside internal.
func internalRanges(ranges []string) bool {
	if len(ranges) == 0 {
		return false
	}
	for _, r := range ranges {
		r, _, _ = strings.Cut(r, "%")
		var p netip.Prefix
		var err error
		if strings.Contains(r, "/") {
			p, err = netip.ParsePrefix(r)
		} else {
			var a netip.Addr
			a, err = netip.ParseAddr(r)
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if err != nil { // a placeholder, say: cannot tell
			return false
		}
		p = p.Masked()
		inside := false
		for _, q := range internal {
			inside = inside || (q.Addr().Is4() == p.Addr().Is4() && p.Bits() >= q.Bits() && q.Contains(p.Addr()))
		}
		if !inside {
			return false
		}
	}
	return true
}

// verifies reports whether handlers hold a webhook_verify that checks
// signatures.
func verifies(handlers []caddyhttp.MiddlewareHandler) bool {
	for _, h := range handlers {
		if v, ok := h.(*WebhookVerify); ok && v.route != nil && !v.route.unsigned {
			return true
		}
	}
	return false
}

// verifiesBefore reports whether the raw handlers of the route being
// provisioned hold a signature-checking webhook_verify before the first
// handler named stop. They are read raw: the route's Handlers are set only
// once all of them are loaded.
func verifiesBefore(raw []json.RawMessage, stop string) bool {
	for _, h := range raw {
		var v struct {
			Handler          string `json:"handler"`
			InsecureUnsigned bool   `json:"insecure_unsigned"`
		}
		if json.Unmarshal(h, &v) != nil || v.Handler == stop {
			return false
		}
		// insecure_unsigned may let requests through unchecked (whether it
		// does depends on secrets not yet resolved): it does not count.
		if v.Handler == "webhook_verify" && !v.InsecureUnsigned {
			return true
		}
	}
	return false
}
