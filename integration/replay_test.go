package integration

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptedUpstream is an app whose answer the test sets: a status, a
// hold (it waits before answering), or a hang-up (no answer at all). It
// counts the requests that reached it, by delivery.
type scriptedUpstream struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []http.Header
	// What the next requests get.
	status   int
	hold     chan struct{}
	hangup   bool
	truncate bool          // answer 200 with a Content-Length, send 2 bytes and hang up
	arrived  chan struct{} // a request reached the app (non-blocking send)
}

func newScriptedUpstream(t *testing.T) *scriptedUpstream {
	t.Helper()
	u := &scriptedUpstream{status: http.StatusOK, arrived: make(chan struct{}, 16)}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.got = append(u.got, r.Header.Clone())
		status, hold, hangup := u.status, u.hold, u.hangup
		u.mu.Unlock()
		select {
		case u.arrived <- struct{}{}:
		default:
		}
		if hold != nil {
			<-hold
		}
		u.mu.Lock()
		truncate := u.truncate
		u.mu.Unlock()
		if truncate {
			w.Header().Set("Content-Length", "100")
			w.WriteHeader(http.StatusOK)
			fmt.Fprint(w, "ok")
			http.NewResponseController(w).Flush()
			if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
				conn.Close()
			}
			return
		}
		if hangup {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		w.WriteHeader(status)
		fmt.Fprint(w, "app answered")
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *scriptedUpstream) set(status int, hold chan struct{}, hangup bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.status, u.hold, u.hangup = status, hold, hangup
}

func (u *scriptedUpstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

func (u *scriptedUpstream) last() http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.got[len(u.got)-1]
}

// replaySite guards /standard and /github with replay (memory store).
// extra, if set, are more secret lines for /standard (a rotation).
func replaySite(up *scriptedUpstream, std, gh string, extra ...string) string {
	more := ""
	for _, e := range extra {
		more += fmt.Sprintf("\n\t\t\tsecret %q", e)
	}
	return fmt.Sprintf(`
http://localhost:%d {
	handle /standard {
		webhook_verify standard %q {
			replay%s
		}
		reverse_proxy %s {
			header_up X-Replay-Key {http.webhook.replay_key}
		}
	}
	handle /github {
		webhook_verify github %q {
			replay memory {
				window 1h
			}
		}
		reverse_proxy %s {
			header_up X-Replay-Key {http.webhook.replay_key}
		}
	}
%s
}
`, httpPort, std, more, up.srv.URL, gh, up.srv.URL, errorsBlock)
}

// TestReplay drives every rule of issue 8 through a real Caddy with the
// memory store: a delivered webhook sent again is 200 with
// Webhook-Duplicate and does not reach the app; the same webhook in flight
// is 409; a delivery the app answered with a 5xx, or did not answer, is
// forgotten so the sender's retry is delivered exactly once; a forged
// request with a seen id is 401 and leaves the store alone; for github the
// key is the MAC, so a new X-GitHub-Delivery does not make a replay new;
// and a config reload keeps what was delivered.
func TestReplay(t *testing.T) {
	skipShort(t)
	up := newScriptedUpstream(t)
	std, gh := whsecSecret(t), rawSecret(t)
	loadConfig(t, replaySite(up, std, gh))
	signStd := presetSigner(t, "standard")
	signGH := presetSigner(t, "github")

	t.Run("duplicate_after_delivery", func(t *testing.T) {
		body := []byte(`{"type":"invoice.paid"}`)
		h := signStd(std, body, deliveryID(t), time.Now())
		before := up.count()
		a := send(t, delivery{Path: "/standard", Body: body, Header: h})
		wantStatus(t, a, http.StatusOK)
		if a.Header.Get("Webhook-Duplicate") != "" {
			t.Error("first delivery marked duplicate")
		}
		key := up.last().Get("X-Replay-Key")
		if len(key) < 10 || key[:4] != "sid:" {
			t.Errorf("{http.webhook.replay_key} = %q, want sid:… (standard signs its id)", key)
		}
		for range 3 {
			a = send(t, delivery{Path: "/standard", Body: body, Header: h})
			wantStatus(t, a, http.StatusOK)
			if a.Header.Get("Webhook-Duplicate") != "true" {
				t.Errorf("replay answered without Webhook-Duplicate: true (%q)", a.Body)
			}
		}
		if n := up.count() - before; n != 1 {
			t.Errorf("the app got %d deliveries of one webhook, want 1", n)
		}
	})

	t.Run("in_flight_is_409", func(t *testing.T) {
		body := []byte(`{"type":"slow"}`)
		h := signStd(std, body, deliveryID(t), time.Now())
		hold := make(chan struct{})
		var once sync.Once
		release := func() { once.Do(func() { close(hold) }) }
		defer release() // a failed assertion must not leave the app waiting
		up.set(http.StatusOK, hold, false)
		defer up.set(http.StatusOK, nil, false)
		for len(up.arrived) > 0 { // signals of earlier requests
			<-up.arrived
		}
		before := up.count()
		first := make(chan answer, 1)
		go func() { first <- send(t, delivery{Path: "/standard", Body: body, Header: h}) }()
		select {
		case <-up.arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the first delivery never reached the app")
		}
		a := send(t, delivery{Path: "/standard", Body: body, Header: h})
		wantStatus(t, a, http.StatusConflict)
		release()
		wantStatus(t, <-first, http.StatusOK)
		if n := up.count() - before; n != 1 {
			t.Errorf("the app got %d deliveries, want 1", n)
		}
		a = send(t, delivery{Path: "/standard", Body: body, Header: h})
		if a.Status != http.StatusOK || a.Header.Get("Webhook-Duplicate") != "true" {
			t.Errorf("after delivery: %d, duplicate %q; want 200 and true", a.Status, a.Header.Get("Webhook-Duplicate"))
		}
	})

	for _, c := range []struct {
		name   string
		status int
		hangup bool
	}{{"retry_after_500", http.StatusInternalServerError, false}, {"retry_after_no_answer", 0, true}} {
		t.Run(c.name, func(t *testing.T) {
			body := []byte(`{"type":"` + c.name + `"}`)
			h := signStd(std, body, deliveryID(t), time.Now())
			before := up.count()
			up.set(c.status, nil, c.hangup)
			a := send(t, delivery{Path: "/standard", Body: body, Header: h})
			if a.Status < 500 {
				t.Fatalf("failed delivery answered %d, want a 5xx", a.Status)
			}
			up.set(http.StatusOK, nil, false)
			a = send(t, delivery{Path: "/standard", Body: body, Header: h})
			wantStatus(t, a, http.StatusOK)
			if a.Header.Get("Webhook-Duplicate") != "" {
				t.Fatal("the sender's retry after a failed delivery was taken for a duplicate: the webhook is lost")
			}
			a = send(t, delivery{Path: "/standard", Body: body, Header: h})
			if a.Header.Get("Webhook-Duplicate") != "true" {
				t.Error("a second retry after the successful one was delivered again")
			}
			if n := up.count() - before; n != 2 {
				t.Errorf("the app got %d requests, want 2 (the failed one and the retry)", n)
			}
		})
	}

	t.Run("app_4xx_commits", func(t *testing.T) {
		body := []byte(`{"type":"refused by app"}`)
		h := signStd(std, body, deliveryID(t), time.Now())
		up.set(http.StatusUnprocessableEntity, nil, false)
		defer up.set(http.StatusOK, nil, false)
		wantStatus(t, send(t, delivery{Path: "/standard", Body: body, Header: h}), http.StatusUnprocessableEntity)
		a := send(t, delivery{Path: "/standard", Body: body, Header: h})
		if a.Header.Get("Webhook-Duplicate") != "true" {
			t.Errorf("a webhook the app answered 422 was delivered again (%d)", a.Status)
		}
	})

	t.Run("forged_never_touches_the_store", func(t *testing.T) {
		body := []byte(`{"type":"genuine"}`)
		id := deliveryID(t)
		h := signStd(std, body, id, time.Now())
		// A forgery under the same id before the genuine webhook: 401,
		// and the genuine one is still delivered.
		forged := signStd(whsecSecret(t), body, id, time.Now())
		before := up.count()
		a := send(t, delivery{Path: "/standard", Body: body, Header: forged})
		wantRejected(t, a, http.StatusUnauthorized, &upstream{}, 0)
		wantStatus(t, send(t, delivery{Path: "/standard", Body: body, Header: h}), http.StatusOK)
		// And after it: still 401, never "duplicate".
		a = send(t, delivery{Path: "/standard", Body: body, Header: forged})
		if a.Status != http.StatusUnauthorized || a.Header.Get("Webhook-Duplicate") != "" {
			t.Errorf("forgery with a delivered id: %d, duplicate %q; want 401", a.Status, a.Header.Get("Webhook-Duplicate"))
		}
		if n := up.count() - before; n != 1 {
			t.Errorf("the app got %d requests, want 1", n)
		}
	})

	t.Run("github_new_delivery_header_is_still_a_duplicate", func(t *testing.T) {
		body := []byte(`{"zen":"replayed"}`)
		h := signGH(gh, body, "d-original", time.Now())
		before := up.count()
		wantStatus(t, send(t, delivery{Path: "/github", Body: body, Header: h}), http.StatusOK)
		key := up.last().Get("X-Replay-Key")
		if len(key) < 10 || key[:4] != "mac:" {
			t.Errorf("{http.webhook.replay_key} = %q, want mac:… (github does not sign its delivery id)", key)
		}
		for _, d := range []string{"d-new", "d-other", ""} {
			h2 := h.Clone()
			if d == "" {
				h2.Del("X-Github-Delivery")
			} else {
				h2.Set("X-Github-Delivery", d)
			}
			a := send(t, delivery{Path: "/github", Body: body, Header: h2})
			if a.Status != http.StatusOK || a.Header.Get("Webhook-Duplicate") != "true" {
				t.Errorf("X-GitHub-Delivery %q: %d, duplicate %q; want a duplicate", d, a.Status, a.Header.Get("Webhook-Duplicate"))
			}
		}
		if n := up.count() - before; n != 1 {
			t.Errorf("the app got %d requests, want 1", n)
		}
	})

	t.Run("app_answered_then_response_cut", func(t *testing.T) {
		// The app answers 200 and the connection drops mid-body:
		// reverse_proxy aborts the response. The app has the webhook, so
		// the sender's retry is a duplicate: not 409 for minutes, and not
		// delivered again once a reservation would have expired.
		body := []byte(`{"type":"cut"}`)
		h := signStd(std, body, deliveryID(t), time.Now())
		before := up.count()
		up.mu.Lock()
		up.truncate = true
		up.mu.Unlock()
		req, err := http.NewRequest(http.MethodPost, gatewayURL+"/standard", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = h
		if resp, err := client.Do(req); err == nil {
			_, _ = io.ReadAll(resp.Body) // cut short: an error is expected
			resp.Body.Close()
		}
		up.mu.Lock()
		up.truncate = false
		up.mu.Unlock()
		a := send(t, delivery{Path: "/standard", Body: body, Header: h})
		if a.Status != http.StatusOK || a.Header.Get("Webhook-Duplicate") != "true" {
			t.Errorf("retry after an answered but cut response: %d, duplicate %q; want 200 and true", a.Status, a.Header.Get("Webhook-Duplicate"))
		}
		if n := up.count() - before; n != 1 {
			t.Errorf("the app got %d requests, want 1", n)
		}
	})

	t.Run("kept_across_rotation", func(t *testing.T) {
		body := []byte(`{"type":"before rotation"}`)
		h := signStd(std, body, deliveryID(t), time.Now())
		wantStatus(t, send(t, delivery{Path: "/standard", Body: body, Header: h}), http.StatusOK)
		// A second secret is added to the route (a rotation begins).
		if err := postLoad(t, globalOptions+replaySite(up, std, gh, whsecSecret(t))); err != nil {
			t.Fatal(err)
		}
		a := send(t, delivery{Path: "/standard", Body: body, Header: h})
		if a.Header.Get("Webhook-Duplicate") != "true" {
			t.Errorf("after a secret was added, the delivered webhook was delivered again (%d)", a.Status)
		}
		if err := postLoad(t, globalOptions+replaySite(up, std, gh)); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("kept_across_reload", func(t *testing.T) {
		body := []byte(`{"type":"before reload"}`)
		h := signStd(std, body, deliveryID(t), time.Now())
		wantStatus(t, send(t, delivery{Path: "/standard", Body: body, Header: h}), http.StatusOK)
		// The same config again, reloaded through the admin API (a
		// comment changes it, so Caddy does not skip the load).
		if err := postLoad(t, globalOptions+replaySite(up, std, gh)+"# reloaded\n"); err != nil {
			t.Fatal(err)
		}
		a := send(t, delivery{Path: "/standard", Body: body, Header: h})
		if a.Header.Get("Webhook-Duplicate") != "true" {
			t.Errorf("after a reload the delivered webhook was delivered again (%d)", a.Status)
		}
	})
}

// TestReplayCaddyfileErrors: a replay block that cannot work fails at
// adapt or load, naming the line and the fix.
func TestReplayCaddyfileErrors(t *testing.T) {
	for _, c := range []struct{ block, want string }{
		{"replay redis # <-", "replay redis needs an address"},
		{"replay disk # <-", `replay store "disk"`},
		{"replay {\n\t\t\taddress 127.0.0.1:6379 # <-\n\t\t}", "are for replay redis"},
		{"replay redis {\n\t\t\taddress 127.0.0.1:6379\n\t\t\tmax_entries 5 # <-\n\t\t}", "max_entries is for replay memory"},
		{"replay {\n\t\t\twindow 1h\n\t\t\twindow 2h # <-\n\t\t}", "replay window is given twice (first on line 12)"},
		{"replay {\n\t\t\twindow soon # <-\n\t\t}", `replay window: "soon" is not a positive duration`},
		{"replay {\n\t\t\tmax_entries lots # <-\n\t\t}", `"lots" is not a positive whole number`},
		{"replay {\n\t\t\twindows 1h # <-\n\t\t}", `unknown replay option "windows"`},
	} {
		cfg := globalOptions + fmt.Sprintf("\nhttp://localhost:%d {\n\twebhook_verify github {env.SECRET} {\n\t\t%s\n\t}\n\treverse_proxy localhost:1\n}\n", httpPort, c.block)
		wantAdaptError(t, cfg, c.want)
	}
}

// TestReplayLoadErrors: replay settings that would let a replay in fail
// the load: a window shorter than twice the tolerance (a timestamp is
// accepted on either side of now), and replay on an insecure_unsigned
// route (nothing is verified, so nothing may be recorded).
func TestReplayLoadErrors(t *testing.T) {
	skipShort(t)
	up := newScriptedUpstream(t)
	loadConfig(t, replaySite(up, whsecSecret(t), rawSecret(t)))
	for _, c := range []struct{ block, want string }{
		{"webhook_verify slack {env.HOME} {\n\t\ttolerance 5m\n\t\treplay {\n\t\t\twindow 9m\n\t\t}\n\t}", "shorter than twice the tolerance"},
		{"webhook_verify github {\n\t\tinsecure_unsigned\n\t\treplay\n\t}", "cannot be used with insecure_unsigned"},
	} {
		err := postLoad(t, globalOptions+fmt.Sprintf("http://localhost:%d {\n\t%s\n\treverse_proxy localhost:1\n}\n", httpPort, c.block))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("load error %v, want one containing %q", err, c.want)
		}
	}
}

// TestReplayEvictionWarned: a memory store that is full forgets its oldest
// delivered webhooks, so a replay of one is delivered again; the gateway
// warns about it, with the count, so the operator can raise max_entries.
func TestReplayEvictionWarned(t *testing.T) {
	skipShort(t)
	up := newScriptedUpstream(t)
	gh := rawSecret(t)
	logPath := t.TempDir() + "/caddy.log"
	loadFullConfig(t, debugLogOptions(logPath)+fmt.Sprintf(`
http://localhost:%d {
	webhook_verify github %q {
		name evict
		replay {
			max_entries 2
		}
	}
	reverse_proxy %s
%s
}
`, httpPort, gh, up.srv.URL, errorsBlock))
	sign := presetSigner(t, "github")
	first := []byte(`{"n":0}`)
	firstH := sign(gh, first, "d", time.Now())
	wantStatus(t, send(t, delivery{Path: "/", Body: first, Header: firstH}), http.StatusOK)
	for i := 1; i <= 3; i++ {
		body := []byte(fmt.Sprintf(`{"n":%d}`, i))
		wantStatus(t, send(t, delivery{Path: "/", Body: body, Header: sign(gh, body, "d", time.Now())}), http.StatusOK)
	}
	// The first was dropped to make room: its replay gets through, and
	// the log said so.
	a := send(t, delivery{Path: "/", Body: first, Header: firstH})
	if a.Header.Get("Webhook-Duplicate") != "" {
		t.Fatal("the store kept more than max_entries delivered webhooks")
	}
	if log := readFile(t, logPath); !strings.Contains(log, "replay memory store is full") || !strings.Contains(log, `"dropped"`) {
		t.Error("no warning that the full store forgot delivered webhooks")
	}
}
