package caddymodule

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
)

// freshStats forgets a route's figures, so a test that counts exactly
// starts from zero however often it runs in this process.
func freshStats(handler, name string) {
	statsByRoute.Lock()
	delete(statsByRoute.m, handler+"\x00"+name)
	statsByRoute.Unlock()
}

// serveVerify sends body with headers h through v; next answers 200.
func serveVerify(t *testing.T, v *WebhookVerify, body string, h http.Header) {
	t.Helper()
	r, _ := request(strings.NewReader(body), h)
	_ = v.ServeHTTP(httptest.NewRecorder(), r, handlerFunc(func(http.ResponseWriter, *http.Request) error { return nil }))
}

// TestAdminStatusJSON checks the exact answer of GET /webhooks/ for a
// verify route with replay and a sign route of the same name, after a
// known sequence of requests, with an older route of the same name (a
// config being replaced) left out.
func TestAdminStatusJSON(t *testing.T) {
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const name = "admin-shape"
	freshStats("verify", name)
	freshStats("sign", name)
	keyA, keyB, keyOld := "kX3vQ9mR2pL8nT5wY7zB4cF6", "Zq8Lm3Tr6Wp1Yx4Bn7Vc2Hs5", "Jd4Kf7Gh2Pq9Rs6Tu3Vw8Xy1"

	stale := &WebhookVerify{Scheme: "github", Name: name, Secrets: []Secret{{Value: keyA, Label: "stale"}}}
	stale.clock = clock
	if err := provision(t, stale); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stale.Cleanup() })
	v := &WebhookVerify{Scheme: "github", Name: name, Secrets: []Secret{
		{Value: keyA, Label: "key-a"},
		{Value: keyB, Label: "key-b", NotAfter: "2099-01-01T00:00:00Z"},
		{Value: keyOld, Label: "key-old", NotAfter: "2020-01-01T00:00:00Z"},
	}, Replay: &Replay{Window: caddy.Duration(time.Hour)}}
	v.clock = clock
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Cleanup() })
	s := &WebhookSign{Scheme: "standard", Name: name, Secrets: []Secret{{Value: strongA, Label: "out-1"}, {Value: strongB, Label: "out-2"}}}
	s.clock = clock
	if err := provisionSign(t, s); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Cleanup() })

	// 2 verified with key-a, 1 with key-b, 1 wrong signature, 1 duplicate.
	serveVerify(t, v, "one", signedGitHub(t, keyA, []byte("one")))
	serveVerify(t, v, "two", signedGitHub(t, keyA, []byte("two")))
	serveVerify(t, v, "three", signedGitHub(t, keyB, []byte("three")))
	serveVerify(t, v, "four", signedGitHub(t, "not-the-secret-at-all", []byte("four")))
	serveVerify(t, v, "one", signedGitHub(t, keyA, []byte("one")))
	r, _ := request(strings.NewReader("out"), nil)
	if err := s.ServeHTTP(httptest.NewRecorder(), r, handlerFunc(func(http.ResponseWriter, *http.Request) error { return nil })); err != nil {
		t.Fatal(err)
	}

	// stale was loaded first: the newer verify route of the same name
	// replaces it; the sign route has a name of its own per handler.
	got, err := json.Marshal(statusOf(newestRoutes(map[*route]uint64{stale.route: 1, v.route: 2, s.route: 3})))
	if err != nil {
		t.Fatal(err)
	}
	bytesHeld := v.replay.store.Stats().Bytes
	want := fmt.Sprintf(`{"routes":[
	{"name":"admin-shape","handler":"webhook_sign","scheme":"standard","unsigned":false,"loaded":"2026-11-25T10:00:00Z",
	 "secrets":[
		{"label":"out-1","not_after":null,"expired":false,"last_used":"2026-11-25T10:00:00Z"},
		{"label":"out-2","not_after":null,"expired":false,"last_used":null}],
	 "outcomes":{"signed":1}},
	{"name":"admin-shape","handler":"webhook_verify","scheme":"github","unsigned":false,"loaded":"2026-11-25T10:00:00Z",
	 "secrets":[
		{"label":"key-a","not_after":null,"expired":false,"last_used":"2026-11-25T10:00:00Z"},
		{"label":"key-b","not_after":"2099-01-01T00:00:00Z","expired":false,"last_used":"2026-11-25T10:00:00Z"},
		{"label":"key-old","not_after":"2020-01-01T00:00:00Z","expired":true,"last_used":null}],
	 "outcomes":{"duplicate":1,"verified":3,"wrong_signature":1},
	 "replay":{"store":"memory","window":"1h0m0s","entries":3,"bytes":%d,"evicted":0}}
]}`, bytesHeld)
	var compact bytes.Buffer
	if err := json.Compact(&compact, []byte(want)); err != nil {
		t.Fatal(err)
	}
	if string(got) != compact.String() {
		t.Errorf("status\n got %s\nwant %s", got, compact.String())
	}
	if bytesHeld <= 0 {
		t.Errorf("replay store holds %d bytes for 3 entries", bytesHeld)
	}
	for _, secret := range []string{keyA, keyB, keyOld, strongA, strongB, strings.TrimPrefix(strongA, "whsec_")} {
		if strings.Contains(string(got), secret) {
			t.Errorf("the status shows a secret: %s", got)
		}
	}

	// A secret whose not_after passes after the load is shown expired.
	now = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	if st := v.route.status(); !st.Secrets[1].Expired || st.Secrets[0].Expired {
		t.Errorf("at key-b's not_after: secrets %+v", st.Secrets)
	}
}

// TestAdminStatusRedisUnknown checks that a Redis store's unknown figures
// are null, not -1.
func TestAdminStatusRedisUnknown(t *testing.T) {
	v := &WebhookVerify{Scheme: "github", Name: "admin-redis", Secrets: []Secret{{Value: "kX3vQ9mR2pL8nT5wY7zB4cF6", Label: "a"}},
		Replay: &Replay{Store: "redis", Address: "127.0.0.1:1", FailOpen: true}}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Cleanup() })
	got, err := json.Marshal(v.route.status().Replay)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"store":"redis","window":"24h0m0s","fail_open":true,"entries":null,"bytes":null,"evicted":null}`; string(got) != want {
		t.Errorf("redis replay status %s, want %s", got, want)
	}
}

// TestAdminEndpoint checks the module as the admin API mounts it: GET
// lists the live routes, a route leaves the list when its config is
// unloaded, other methods get 405 and other paths 404.
func TestAdminEndpoint(t *testing.T) {
	mod, err := caddy.GetModule("admin.api.webhooks")
	if err != nil {
		t.Fatal(err)
	}
	routes := mod.New().(caddy.AdminRouter).Routes()
	if len(routes) != 1 || routes[0].Pattern != "/webhooks/" {
		t.Fatalf("routes %+v", routes)
	}
	serve := func(method, path string) (*httptest.ResponseRecorder, error) {
		w := httptest.NewRecorder()
		err := routes[0].Handler.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w, err
	}
	names := func() map[string]int {
		t.Helper()
		w, err := serve(http.MethodGet, "/webhooks/")
		if err != nil || w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("GET: %v, %d %q", err, w.Code, w.Header().Get("Content-Type"))
		}
		var st webhooksStatus
		if err := json.Unmarshal(w.Body.Bytes(), &st); err != nil {
			t.Fatal(err)
		}
		n := map[string]int{}
		for _, r := range st.Routes {
			n[r.Handler+" "+r.Name]++
		}
		return n
	}

	v := &WebhookVerify{Scheme: "github", Name: "admin-endpoint", Secrets: []Secret{{Value: "kX3vQ9mR2pL8nT5wY7zB4cF6"}}}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	// The next config's copy of the same route, loaded during a reload.
	v2 := &WebhookVerify{Scheme: "github", Name: "admin-endpoint", Secrets: []Secret{{Value: "kX3vQ9mR2pL8nT5wY7zB4cF6"}}}
	if err := provision(t, v2); err != nil {
		t.Fatal(err)
	}
	if n := names()["webhook_verify admin-endpoint"]; n != 1 {
		t.Errorf("during a reload the route is listed %d times, want once", n)
	}
	_ = v.Cleanup()
	if n := names()["webhook_verify admin-endpoint"]; n != 1 {
		t.Errorf("after the old config's cleanup the route is listed %d times, want once", n)
	}
	_ = v2.Cleanup()
	if n := names()["webhook_verify admin-endpoint"]; n != 0 {
		t.Errorf("an unloaded route is still listed (%d)", n)
	}

	for _, c := range []struct {
		method, path string
		status       int
	}{
		{http.MethodPost, "/webhooks/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/webhooks/", http.StatusMethodNotAllowed},
		{http.MethodGet, "/webhooks/x", http.StatusNotFound},
	} {
		w, err := serve(c.method, c.path)
		var ae caddy.APIError
		if !errors.As(err, &ae) || ae.HTTPStatus != c.status {
			t.Errorf("%s %s: %v, want an APIError %d", c.method, c.path, err, c.status)
		}
		if c.status == http.StatusMethodNotAllowed && w.Header().Get("Allow") != http.MethodGet {
			t.Errorf("%s %s: Allow %q", c.method, c.path, w.Header().Get("Allow"))
		}
	}
}

// TestStatusCommandErrors checks that webhook status says what is wrong
// when nothing answers at the address, and when what answers has no
// /webhooks/ endpoint (a Caddy without this plugin).
func TestStatusCommandErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	if _, err := run(t, "", "status", "--address", closed); err == nil || !strings.Contains(err.Error(), "cannot reach Caddy's admin API at "+closed) {
		t.Errorf("nothing listening: %v", err)
	}

	other := httptest.NewServer(http.NotFoundHandler()) // the admin API of a Caddy without hookguard
	defer other.Close()
	addr := strings.TrimPrefix(other.URL, "http://")
	if _, err := run(t, "", "status", "--address", addr); err == nil || !strings.Contains(err.Error(), "is hookguard's plugin in this Caddy?") {
		t.Errorf("no endpoint: %v", err)
	}
}

// TestPrintStatus checks the table webhook status prints.
func TestPrintStatus(t *testing.T) {
	used := time.Date(2026, 11, 25, 9, 59, 0, 0, time.UTC)
	until := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	gone := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	n3, b, zero := int64(3), int64(1536), int64(0)
	st := webhooksStatus{Routes: []routeStatus{
		{Name: "dev", Handler: "webhook_verify", Scheme: "github", Unsigned: true, Secrets: []secretStatus{}, Outcomes: map[string]uint64{"unsigned": 2}},
		{Name: "orders", Handler: "webhook_verify", Scheme: "github", Secrets: []secretStatus{
			{Label: "key-a", LastUsed: &used},
			{Label: "key-b", NotAfter: &until},
			{Label: "key-old", NotAfter: &gone, Expired: true},
		}, Outcomes: map[string]uint64{"verified": 3, "duplicate": 1, "wrong_signature": 1},
			Replay: &replayStatus{Store: "memory", Window: "1h0m0s", Entries: &n3, Bytes: &b, Evicted: &zero}},
		{Name: "shared", Handler: "webhook_verify", Scheme: "standard", Secrets: []secretStatus{{Label: "s"}}, Outcomes: map[string]uint64{},
			Replay: &replayStatus{Store: "redis", Window: "11m0s"}},
	}}
	var out bytes.Buffer
	printStatus(&out, st, used.Add(time.Minute))
	want := `ROUTE   HANDLER         SCHEME                      OUTCOMES
dev     webhook_verify  github (insecure_unsigned)  unsigned=2
orders  webhook_verify  github                      duplicate=1 verified=3 wrong_signature=1
shared  webhook_verify  standard                    -

ROUTE   SECRET   LAST USED                            EXPIRES
dev     (none)   -                                    -
orders  key-a    2026-11-25T09:59:00Z (1 minute ago)  -
orders  key-b    never                                2099-01-01T00:00:00Z
orders  key-old  never                                2020-01-01T00:00:00Z (expired)
shared  s        never                                -

ROUTE   REPLAY  WINDOW  ENTRIES  SIZE     EVICTED
orders  memory  1h0m0s  3        1.5 KiB  0
shared  redis   11m0s   unknown  unknown  unknown
`
	if out.String() != want {
		t.Errorf("table\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	printStatus(&out, webhooksStatus{}, used)
	if !strings.Contains(out.String(), "no webhook_verify or webhook_sign route") {
		t.Errorf("no routes: %q", out.String())
	}
}

// TestAdminStatusConcurrent reads the status while requests are counted
// and a reload provisions and cleans up copies of the route (run with
// -race).
func TestAdminStatusConcurrent(t *testing.T) {
	const key = "kX3vQ9mR2pL8nT5wY7zB4cF6"
	newRoute := func() (*WebhookVerify, error) {
		v := &WebhookVerify{Scheme: "github", Name: "admin-race", Secrets: []Secret{{Value: key, Label: "a"}}, Replay: &Replay{}}
		return v, provision(t, v)
	}
	v, err := newRoute()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Cleanup() })
	handler := new(AdminWebhooks).Routes()[0].Handler
	reloads, reads := make(chan error, 1), make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 20 && err == nil; i++ {
			var old *WebhookVerify
			if old, err = newRoute(); err == nil {
				err = old.Cleanup()
			}
		}
		reloads <- err
	}()
	go func() {
		var err error
		for i := 0; i < 50 && err == nil; i++ {
			err = handler.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/webhooks/", nil))
		}
		reads <- err
	}()
	for i := 0; i < 50; i++ {
		body := fmt.Sprint(i)
		serveVerify(t, v, body, signedGitHub(t, key, []byte(body)))
	}
	if err := <-reloads; err != nil {
		t.Fatal(err)
	}
	if err := <-reads; err != nil {
		t.Fatal(err)
	}
}
