package caddymodule

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// routeStats are a route's figures since the process started: requests by
// outcome and when each key last matched (verify) or signed (sign). They
// are kept by handler and route name, not by handler instance, so a
// reload carries them over as the metrics do.
type routeStats struct {
	mu       sync.Mutex
	outcomes map[string]uint64
	lastUsed map[string]time.Time // by key label
}

// statsByRoute holds every route's stats for the life of the process: a
// few per configured route, never a request's data.
var statsByRoute = struct {
	sync.Mutex
	m map[string]*routeStats
}{m: map[string]*routeStats{}}

func loadRouteStats(handler, name string) *routeStats {
	statsByRoute.Lock()
	defer statsByRoute.Unlock()
	k := handler + "\x00" + name
	st := statsByRoute.m[k]
	if st == nil {
		st = &routeStats{outcomes: map[string]uint64{}, lastUsed: map[string]time.Time{}}
		statsByRoute.m[k] = st
	}
	return st
}

func (st *routeStats) count(outcome, key string, now time.Time) {
	st.mu.Lock()
	st.outcomes[outcome]++
	if key != "" {
		st.lastUsed[key] = now
	}
	st.mu.Unlock()
}

// snapshot copies the figures.
func (st *routeStats) snapshot() (outcomes map[string]uint64, lastUsed map[string]time.Time) {
	st.mu.Lock()
	defer st.mu.Unlock()
	outcomes = make(map[string]uint64, len(st.outcomes))
	for k, v := range st.outcomes {
		outcomes[k] = v
	}
	lastUsed = make(map[string]time.Time, len(st.lastUsed))
	for k, v := range st.lastUsed {
		lastUsed[k] = v
	}
	return outcomes, lastUsed
}

// unnamed counts, per server being provisioned, the routes without a name
// of each handler and scheme, so each gets a generated name of its own.
var unnamed = struct {
	sync.Mutex
	seen map[*caddyhttp.Server]map[string]int
}{seen: map[*caddyhttp.Server]map[string]int{}}

// routeName is the route's configured name or, without one, a name
// generated from what it is and where: "verify github :8080", then
// "verify github :8080 #2" for a second such route in that server's
// routes, in the order they are loaded. The same config gives the same
// names at every load, so metrics and the admin API's figures carry over
// a reload; a route that should keep its figures when the config around
// it changes needs a name.
func routeName(ctx caddy.Context, handler, scheme, name string) string {
	if name != "" {
		return name
	}
	base := handler + " " + scheme
	srv, _ := ctx.Value(caddyhttp.ServerCtxKey).(*caddyhttp.Server)
	if srv == nil {
		return base
	}
	if len(srv.Listen) > 0 {
		listen := append([]string(nil), srv.Listen...)
		sort.Strings(listen)
		base += " " + strings.Join(listen, ",")
	}
	unnamed.Lock()
	defer unnamed.Unlock()
	seen := unnamed.seen[srv]
	if seen == nil {
		seen = map[string]int{}
		unnamed.seen[srv] = seen
	}
	seen[base]++
	if n := seen[base]; n > 1 {
		return fmt.Sprintf("%s #%d", base, n)
	}
	return base
}

// forgetServer drops the count of unnamed routes of srv: its config is
// being unloaded (each of its handlers' Cleanup calls this; once is
// enough), so the map holds only the servers loaded now.
func forgetServer(srv *caddyhttp.Server) {
	unnamed.Lock()
	delete(unnamed.seen, srv)
	unnamed.Unlock()
}

// liveRoutes are the routes of the configs loaded now (during a reload,
// of both the old and the new), for the admin API.
var liveRoutes = struct {
	sync.Mutex
	m   map[*route]uint64 // the order of loading
	seq uint64
}{m: map[*route]uint64{}}

// publish lists rt among the live routes; close takes it off.
func (rt *route) publish() {
	liveRoutes.Lock()
	liveRoutes.seq++
	liveRoutes.m[rt] = liveRoutes.seq
	liveRoutes.Unlock()
}

// close is called from the handler's Cleanup, when its config is
// unloaded: it takes the route off the live routes and writes out what
// the rejection log has held back.
func (rt *route) close() {
	liveRoutes.Lock()
	delete(liveRoutes.m, rt)
	liveRoutes.Unlock()
	if rt.srv != nil {
		forgetServer(rt.srv)
	}
	rt.expiry.stop()
	rt.refusals.close()
	rt.spoolErrors.close()
}
