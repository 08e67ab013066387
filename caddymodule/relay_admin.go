package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"

	"github.com/hookguard/hookguard/relay"
)

// adminRelayPath is where the relay's part of the admin API answers:
//
//	GET  /webhooks/relay/                      every relay route's queue
//	GET  /webhooks/relay/dead[?route=<name>]   dead letters, oldest first
//	GET  /webhooks/relay/dead/<id>             one dead letter
//	POST /webhooks/relay/dead/<id>/replay      queue it again, due now
//
// A message is shown as relayMessage: never its body (unless ?body=1 on a
// single one) and never a header value, so nothing shown holds a secret.
const adminRelayPath = "/webhooks/relay/"

// How many dead letters GET /webhooks/relay/dead lists: ?limit=, at most
// maxDeadListed, else defaultDeadListed, oldest first.
const (
	defaultDeadListed = 100
	maxDeadListed     = 1000
)

// relayMessage is a message as the admin API shows it.
type relayMessage struct {
	ID          string    `json:"id"`
	Route       string    `json:"route"`
	URL         string    `json:"url"`
	Method      string    `json:"method"`
	Size        int       `json:"size"`
	Headers     []string  `json:"headers"` // names only
	Created     time.Time `json:"created"`
	Attempts    int       `json:"attempts"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastStatus  int       `json:"last_status,omitempty"`
	LastError   string    `json:"last_error,omitempty"`
	Dead        time.Time `json:"dead,omitzero"`
	Body        []byte    `json:"body_base64,omitempty"`
}

func showMessage(rr *relayRoute, m *relay.Message, body bool) relayMessage {
	out := relayMessage{
		ID: m.ID, Route: m.Route, URL: rr.shownURL(m.URL), Method: m.Method, Size: len(m.Body),
		Created: m.Created, Attempts: m.Attempts, LastAttempt: m.LastAttempt, LastStatus: m.LastStatus,
		LastError: m.LastError, Dead: m.Dead,
	}
	for name := range m.Header {
		out.Headers = append(out.Headers, name)
	}
	if body {
		out.Body = m.Body
	}
	return out
}

// relayStatuses are the live relays as routes of GET /webhooks/.
func relayStatuses(ctx context.Context) []routeStatus {
	var out []routeStatus
	for _, rr := range liveRelays.routes() {
		st := routeStatus{Name: rr.name, Handler: "webhook_relay", Relay: rr.status(ctx)}
		if rr.sign != nil {
			st.Scheme = rr.sign.Name
		}
		out = append(out, st)
	}
	return out
}

func (rr *relayRoute) status(ctx context.Context) *relayStatus {
	st := &relayStatus{URL: redactURL(rr.url), Store: strings.SplitN(rr.poolKey, ":", 2)[0]}
	stats, err := rr.store.Stats(ctx, rr.name, rr.now())
	if err != nil {
		st.Error = "the store did not answer"
		return st
	}
	st.Stats = stats
	if !stats.Oldest.IsZero() {
		st.OldestAge = rr.now().Sub(stats.Oldest).Seconds()
	}
	return st
}

func serveRelay(w http.ResponseWriter, r *http.Request) error {
	rest := strings.TrimPrefix(r.URL.Path, adminRelayPath)
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if rest == "" {
		parts = nil
	}
	relays := liveRelays.routes()
	method := func(want string) error {
		if r.Method != want {
			w.Header().Set("Allow", want)
			return caddy.APIError{HTTPStatus: http.StatusMethodNotAllowed, Err: fmt.Errorf("method not allowed: %v", r.Method)}
		}
		return nil
	}
	anyStore := func() relay.Store {
		for _, rr := range relays {
			return rr.store
		}
		return nil
	}
	switch {
	case len(parts) == 0:
		if err := method(http.MethodGet); err != nil {
			return err
		}
		return writeJSON(w, struct {
			Relays []routeStatus `json:"relays"`
		}{relayStatuses(r.Context())})
	case parts[0] != "dead":
	case len(parts) == 1:
		if err := method(http.MethodGet); err != nil {
			return err
		}
		route := r.URL.Query().Get("route")
		// Bounded: a dead letter is loaded whole, and a receiver that
		// refuses everything can make many.
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		if limit <= 0 || limit > maxDeadListed {
			limit = defaultDeadListed
		}
		seen := map[relay.Store]bool{}
		out := []relayMessage{}
		for name, rr := range relays {
			if route != "" && name != route || seen[rr.store] {
				continue
			}
			seen[rr.store] = true
			msgs, err := rr.store.Dead(r.Context(), route, limit)
			if err != nil {
				return caddy.APIError{HTTPStatus: http.StatusServiceUnavailable, Err: errors.New("the relay store did not answer")}
			}
			for _, m := range msgs {
				if _, ours := relays[m.Route]; ours || route != "" {
					out = append(out, showMessage(relays[m.Route], m, false))
				}
			}
		}
		return writeJSON(w, struct {
			Dead []relayMessage `json:"dead"`
		}{out})
	case len(parts) == 2 || len(parts) == 3 && parts[2] == "replay":
		st := anyStore()
		if st == nil {
			break
		}
		m, err := findMessage(r.Context(), relays, parts[1])
		if err != nil {
			return err
		}
		if len(parts) == 2 {
			if err := method(http.MethodGet); err != nil {
				return err
			}
			return writeJSON(w, showMessage(relays[m.Route], m, r.URL.Query().Get("body") == "1"))
		}
		if err := method(http.MethodPost); err != nil {
			return err
		}
		rr := relays[m.Route]
		if err := rr.store.Replay(r.Context(), m.ID, time.Now()); err != nil {
			return caddy.APIError{HTTPStatus: http.StatusConflict, Err: fmt.Errorf("replaying %s: %w", m.ID, err)}
		}
		rr.worker.Wake()
		return writeJSON(w, struct {
			Replayed string `json:"replayed"`
		}{m.ID})
	}
	return caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("resource not found: %v", r.URL.Path)}
}

// findMessage finds a dead letter by id in the stores of the live relays.
func findMessage(ctx context.Context, relays map[string]*relayRoute, id string) (*relay.Message, error) {
	for _, rr := range relays {
		m, err := rr.store.Get(ctx, id)
		if err != nil || m == nil {
			continue
		}
		if _, ok := relays[m.Route]; !ok {
			continue
		}
		if m.Dead.IsZero() {
			return nil, caddy.APIError{HTTPStatus: http.StatusConflict, Err: fmt.Errorf("%s is not a dead letter: it is queued", id)}
		}
		return m, nil
	}
	return nil, caddy.APIError{HTTPStatus: http.StatusNotFound, Err: fmt.Errorf("no dead letter %s", id)}
}

func writeJSON(w http.ResponseWriter, v any) error {
	w.Header().Set("Content-Type", "application/json")
	return json.NewEncoder(w).Encode(v)
}
