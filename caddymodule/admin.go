package caddymodule

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookguard/hookguard/relay"
	"github.com/hookguard/hookguard/verifier"
)

func init() {
	caddy.RegisterModule(AdminWebhooks{})
}

// AdminWebhooks is an admin API module that serves, read-only, the state
// of every loaded webhook_verify and webhook_sign route at GET /webhooks/
// on Caddy's admin address. It is not configurable, and is mounted
// whenever the admin API runs. Per route it shows the route's name, its
// handler, its scheme, whether it runs insecure_unsigned, its secrets by
// label with their not_after and the last time each matched (verify) or
// signed (sign), its requests by outcome since the process started (kept
// across config reloads, like the metrics), and, for a webhook_verify
// with replay, the replay store. It never shows a secret, a signature, a
// delivery id or anything of a request. `webhook status` prints it as a
// table.
type AdminWebhooks struct{}

// CaddyModule returns the Caddy module information.
func (AdminWebhooks) CaddyModule() caddy.ModuleInfo {
	return caddy.ModuleInfo{
		ID:  "admin.api.webhooks",
		New: func() caddy.Module { return new(AdminWebhooks) },
	}
}

// adminWebhooksPath is where the module answers.
const adminWebhooksPath = "/webhooks/"

// Routes returns the route of GET /webhooks/.
func (a *AdminWebhooks) Routes() []caddy.AdminRoute {
	return []caddy.AdminRoute{{Pattern: adminWebhooksPath, Handler: caddy.AdminHandlerFunc(a.serveStatus)}}
}

func (a *AdminWebhooks) serveStatus(w http.ResponseWriter, r *http.Request) error {
	if strings.HasPrefix(r.URL.Path, adminRelayPath) {
		return serveRelay(w, r)
	}
	if r.URL.Path != adminWebhooksPath {
		return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("resource not found: %v", r.URL.Path)}
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed: %v", r.Method)}
	}
	liveRoutes.Lock()
	routes := newestRoutes(liveRoutes.m)
	liveRoutes.Unlock()
	st := statusOf(routes)
	st.Routes = append(st.Routes, relayStatuses(r.Context())...)
	sort.SliceStable(st.Routes, func(i, j int) bool {
		if st.Routes[i].Name != st.Routes[j].Name {
			return st.Routes[i].Name < st.Routes[j].Name
		}
		return st.Routes[i].Handler < st.Routes[j].Handler
	})
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(st)
}

// webhooksStatus is the answer of GET /webhooks/.
type webhooksStatus struct {
	// Routes are sorted by name, then handler.
	Routes []routeStatus `json:"routes"`
}

// routeStatus is one route in GET /webhooks/.
type routeStatus struct {
	// Name is the configured name, or the one generated at load.
	Name string `json:"name"`
	// Handler is webhook_verify or webhook_sign.
	Handler string `json:"handler"`
	// Scheme is the scheme as configured.
	Scheme string `json:"scheme"`
	// Unsigned is true for an insecure_unsigned route (no secret).
	Unsigned bool `json:"unsigned"`
	// Loaded is when the config that holds this route was loaded.
	Loaded time.Time `json:"loaded"`
	// Secrets are the route's secrets, by label: the accepted ones in
	// config order, then those already expired at load.
	Secrets []secretStatus `json:"secrets"`
	// Outcomes counts requests by outcome (verified, signed, unsigned,
	// duplicate, replay_unchecked, or the reason of a refusal) since the
	// process started, across reloads.
	Outcomes map[string]uint64 `json:"outcomes"`
	// Replay is the replay store of a webhook_verify with replay; absent
	// otherwise.
	Replay *replayStatus `json:"replay,omitempty"`
	// Relay is the queue of a webhook_relay route; absent for others.
	Relay *relayStatus `json:"relay,omitempty"`
}

// secretStatus is one secret, by its label only.
type secretStatus struct {
	Label string `json:"label"`
	// NotAfter is when it stops being accepted; null if never.
	NotAfter *time.Time `json:"not_after"`
	// Expired is true once NotAfter has passed: the secret is no longer
	// accepted.
	Expired bool `json:"expired"`
	// LastUsed is the last time the secret matched (verify) or signed
	// (sign) since the process started; null if never.
	LastUsed *time.Time `json:"last_used"`
}

// replayStatus describes a route's replay store.
type replayStatus struct {
	// Store is memory or redis.
	Store string `json:"store"`
	// Window is how long a delivered webhook is remembered, as a Go
	// duration ("24h0m0s").
	Window   string `json:"window"`
	FailOpen bool   `json:"fail_open,omitempty"`
	// Entries and Bytes are the keys held and the memory they take (an
	// estimate); Evicted counts delivered keys dropped before their
	// window ended because the store was full. A memory store shared by
	// routes (the same scheme and name) reports all of its keys. null
	// when unknown: Redis keeps its own count, and evicts by its own
	// policy.
	Entries *int64 `json:"entries"`
	Bytes   *int64 `json:"bytes"`
	Evicted *int64 `json:"evicted"`
}

// relayStatus is a webhook_relay route's queue in GET /webhooks/ and GET
// /webhooks/relay/: where it delivers (no userinfo, no query), its store,
// and relay.Stats, the oldest message's age in seconds too.
type relayStatus struct {
	URL   string `json:"url"`
	Store string `json:"store"`
	relay.Stats
	OldestAge float64 `json:"oldest_age_seconds"`
	Error     string  `json:"error,omitempty"`
}

// newestRoutes picks, of the live routes (during a reload, those of the
// old and the new config), the most recently loaded one of each handler
// and name.
func newestRoutes(live map[*route]uint64) []*route {
	type pick struct {
		rt  *route
		seq uint64
	}
	newest := map[string]pick{}
	for rt, seq := range live {
		k := rt.handler + "\x00" + rt.name
		if p, ok := newest[k]; !ok || seq > p.seq {
			newest[k] = pick{rt, seq}
		}
	}
	out := make([]*route, 0, len(newest))
	for _, p := range newest {
		out = append(out, p.rt)
	}
	return out
}

// statusOf describes routes, sorted by name, then handler. A route's
// fields are set before it is published and only read after; its figures
// are copied under their lock.
func statusOf(routes []*route) webhooksStatus {
	out := webhooksStatus{Routes: make([]routeStatus, 0, len(routes))}
	for _, rt := range routes {
		out.Routes = append(out.Routes, rt.status())
	}
	sort.SliceStable(out.Routes, func(i, j int) bool {
		a, b := out.Routes[i], out.Routes[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Handler < b.Handler
	})
	return out
}

// status describes the route: labels, never a secret.
func (rt *route) status() routeStatus {
	outcomes, lastUsed := rt.stats.snapshot()
	now := rt.now()
	st := routeStatus{
		Name:     rt.name,
		Handler:  "webhook_" + rt.handler,
		Scheme:   rt.scheme.Name, // as configured: a preset or generic scheme keeps its name
		Unsigned: rt.unsigned,
		Loaded:   rt.loaded.UTC(),
		Secrets:  make([]secretStatus, 0, len(rt.keys)+len(rt.expired)),
		Outcomes: outcomes,
	}
	for i, k := range append(append([]verifier.Key(nil), rt.keys...), rt.expired...) {
		s := secretStatus{Label: k.Label, Expired: i >= len(rt.keys)}
		if !k.NotAfter.IsZero() {
			t := k.NotAfter.UTC()
			s.NotAfter = &t
			s.Expired = s.Expired || !now.Before(k.NotAfter)
		}
		if t, ok := lastUsed[k.Label]; ok {
			t = t.UTC()
			s.LastUsed = &t
		}
		st.Secrets = append(st.Secrets, s)
	}
	if rt.describe != nil {
		rt.describe(&st)
	}
	return st
}

// describe adds webhook_verify's own state to its route's status: the
// replay store, if any.
func (v *WebhookVerify) describe(st *routeStatus) {
	g := v.replay
	if g == nil {
		return
	}
	rs := &replayStatus{Store: "memory", Window: g.window.String(), FailOpen: g.failOpen}
	if g.poolKey == "" {
		rs.Store = "redis"
	}
	stats := g.store.Stats()
	known := func(n int64) *int64 {
		if n < 0 {
			return nil
		}
		return &n
	}
	rs.Entries, rs.Bytes = known(stats.Entries), known(stats.Bytes)
	if rs.Store == "memory" {
		rs.Evicted = known(stats.Evicted)
	}
	st.Replay = rs
}

// Interface guards
var (
	_ caddy.Module      = (*AdminWebhooks)(nil)
	_ caddy.AdminRouter = (*AdminWebhooks)(nil)
)
