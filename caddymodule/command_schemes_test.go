package caddymodule

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
)

var updateReadme = flag.Bool("update", false, "TestReadmeSenders: rewrite the README's table of senders from the registry")

// TestSchemesListsEveryPreset: webhook schemes lists every registered
// preset, one row each with its signature header and docs URL, and
// nothing but the table on stdout.
func TestSchemesListsEveryPreset(t *testing.T) {
	out, stderr, err := runAll(t, "", "schemes")
	if err != nil {
		t.Fatalf("schemes: %v\n%s", err, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	names := preset.Names()
	if len(lines) != len(names)+1 || !strings.HasPrefix(lines[0], "NAME ") {
		t.Fatalf("want a header and %d rows, got:\n%s", len(names), out)
	}
	for i, name := range names {
		row := lines[i+1]
		e, _ := preset.Lookup(name)
		s, err := preset.Get(name, preset.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(row, name+" ") || !strings.HasSuffix(row, e.Docs) || !strings.Contains(row, s.HeaderSets[0].Signature) || !strings.Contains(row, e.Sender) {
			t.Errorf("row of %s lacks its name, sender, signature header or docs:\n%s", name, row)
		}
		ts := "none"
		if s.Timestamped() {
			ts = s.Time.String() + ", " + durationText(s.Tolerance)
			if s.FixedWidthTime {
				ts = s.Time.String() + " (fixed width), " + durationText(s.Tolerance)
			}
		}
		if !strings.Contains(row, "  "+ts+"  ") {
			t.Errorf("row of %s lacks its timestamp %q:\n%s", name, ts, row)
		}
	}
	if !strings.Contains(stderr, "schemes <name>") {
		t.Errorf("stderr does not say how to see one: %q", stderr)
	}
}

// TestSchemesShowsOne: webhook schemes <name> shows each header set, the
// algorithm, the template signed and the docs URL of every preset.
func TestSchemesShowsOne(t *testing.T) {
	for _, name := range preset.Names() {
		out, stderr, err := runAll(t, "", "schemes", name)
		if err != nil {
			t.Fatalf("schemes %s: %v\n%s", name, err, stderr)
		}
		e, _ := preset.Lookup(name)
		s, _ := preset.Get(name, preset.Options{})
		want := []string{"docs  ", e.Docs, "algorithm  ", s.Algorithm.Name(), "handshake  "}
		for _, h := range s.HeaderSets {
			want = append(want, h.Signature, h.Timestamp, h.ID)
		}
		if s.Strategy == nil && !s.Compares() {
			want = append(want, describeContent(s))
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("schemes %s lacks %q:\n%s", name, w, out)
			}
		}
	}

	out, _, err := runAll(t, "", "schemes", "github")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"headers      signature X-Hub-Signature-256, id X-GitHub-Delivery\n",
		"format       X-Hub-Signature-256: sha256=<signature>\n",
		"content      {body}\n",
		"timestamp    none\n",
		"legacy_sha1  also accepts X-Hub-Signature: sha1=<signature> (HMAC-SHA1, hex)\n",
		"docs         https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("schemes github lacks %q:\n%s", w, out)
		}
	}
	out, _, err = runAll(t, "", "schemes", "svix")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"headers 1  signature Svix-Signature, timestamp Svix-Timestamp, id Svix-Id\n",
		"headers 2  signature Webhook-Signature, timestamp Webhook-Timestamp, id Webhook-Id\n",
		"format     Svix-Signature: v1,<signature> v1,<signature> (one v1 per secret; other versions ignored)\n",
		"timestamp  Unix seconds, header Svix-Timestamp; tolerance 5m unless",
		"secret     whsec_ + base64\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("schemes svix lacks %q:\n%s", w, out)
		}
	}
	out, _, _ = runAll(t, "", "schemes", "stripe")
	if !strings.Contains(out, "Unix seconds, the t= element of Stripe-Signature; tolerance 5m") || !strings.Contains(out, "the sender's secrets start with whsec_") {
		t.Errorf("schemes stripe:\n%s", out)
	}
	out, _, _ = runAll(t, "", "schemes", "gitlab")
	if !strings.Contains(out, "headers    token X-Gitlab-Token, id X-Gitlab-Event-UUID\n") || !strings.Contains(out, "content    nothing: the header holds the secret\n") {
		t.Errorf("schemes gitlab:\n%s", out)
	}
	out, _, _ = runAll(t, "", "schemes", "slack")
	if !strings.Contains(out, "handshake  yes") {
		t.Errorf("schemes slack shows no handshake:\n%s", out)
	}
}

// TestSchemesUnknown: an unknown name exits non-zero with the registry's
// message, which suggests the nearest names; the generic schemes are
// named for what they are.
func TestSchemesUnknown(t *testing.T) {
	out, stderr, err := runAll(t, "", "schemes", "gihtub")
	if err == nil || err.Error() != preset.UnknownError("gihtub").Error() || !strings.Contains(err.Error(), "did you mean github") || out != "" {
		t.Errorf("schemes gihtub: err=%v stdout=%q", err, out)
	}
	if !strings.HasPrefix(stderr, "Error: unknown scheme") {
		t.Errorf("stderr %q", stderr)
	}
	if _, _, err := runAll(t, "", "schemes", "hmac"); err == nil || !strings.Contains(err.Error(), "hmac is no preset") {
		t.Errorf("schemes hmac: %v", err)
	}
	if _, _, err := runAll(t, "", "schemes", "github", "gitlab"); err == nil {
		t.Error("two names accepted")
	}
}

// TestSchemesJSON: --json gives every preset as an array and one as an
// object, with the same facts.
func TestSchemesJSON(t *testing.T) {
	out, _, err := runAll(t, "", "schemes", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var all []schemeInfo
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(all) != len(preset.Names()) {
		t.Fatalf("%d presets in JSON, %d registered", len(all), len(preset.Names()))
	}
	for i, name := range preset.Names() {
		if all[i].Name != name || all[i].Docs == "" || len(all[i].Headers) == 0 || all[i].Algorithm == "" {
			t.Errorf("JSON entry %d: %+v", i, all[i])
		}
	}
	out, _, err = runAll(t, "", "schemes", "standard", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var one map[string]any
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	if one["content"] != "{id}.{timestamp}.{body}" || one["timestamp"].(map[string]any)["tolerance"] != "5m" || one["key"].(map[string]any)["format"] != "whsec_ + base64" {
		t.Errorf("schemes standard --json:\n%s", out)
	}
}

// TestSchemesDescribeWhatPresetsWillUse: the descriptions of what no
// preset on this branch uses yet (a key pair, a strategy, a millisecond
// timestamp, a body limit) come from the scheme.
func TestSchemesDescribeWhatPresetsWillUse(t *testing.T) {
	s := &scheme.Scheme{
		Name:       "test-v1a",
		HeaderSets: []scheme.Headers{{Signature: "Webhook-Signature", Timestamp: "Webhook-Timestamp", ID: "Webhook-Id"}},
		Format:     scheme.Versioned{Version: "v1a"},
		Algorithm:  scheme.Ed25519{}, Encoding: scheme.Base64,
		Content: "{id}.{timestamp}.{body}", Time: scheme.UnixMillis, Tolerance: scheme.DefaultTolerance,
	}
	if err := s.Init(); err != nil {
		t.Fatal(err)
	}
	if l := describeLayout(s); l != "Webhook-Signature: v1a,<signature> v1a,<signature> (one v1a per key; other versions ignored)" {
		t.Errorf("layout %q", l)
	}
	if k := describeKey(s); k.String() != "public key (Ed25519)" {
		t.Errorf("key %q", k)
	}
	if ts := describeTimestamp(s); ts.String() != "Unix milliseconds, 5m" || ts.Where != "header Webhook-Timestamp" {
		t.Errorf("timestamp %+v", ts)
	}
	if s.MaxBody != scheme.WholeBodyLimit || sizeText(s.MaxBody) != "1MiB" {
		t.Errorf("max body %d = %s", s.MaxBody, sizeText(s.MaxBody))
	}
	s.Strategy = nopStrategy{}
	if c := describeContent(s); c != "set by the sender's strategy" {
		t.Errorf("content of a strategy: %q", c)
	}
	tok := &scheme.Scheme{Name: "test-passcode", HeaderSets: []scheme.Headers{{Signature: "passcode"}}, Format: scheme.Token{}, Algorithm: scheme.Compare{}, Strategy: nopStrategy{}}
	if err := tok.Init(); err != nil {
		t.Fatal(err)
	}
	if c := describeContent(tok); c != "set by the sender's strategy" {
		t.Errorf("content of a token read by a strategy: %q", c)
	}
	if l := describeLayout(s); l != "Webhook-Signature: set by the sender's strategy" {
		t.Errorf("layout of a strategy: %q", l)
	}
	for d, want := range map[string]string{"5m0s": "5m", "1h0m0s": "1h", "90s": "1m30s", "0s": "0s", "10m30s": "10m30s"} {
		if got := durationText(mustDuration(t, d)); got != want {
			t.Errorf("durationText(%s) = %s, want %s", d, got, want)
		}
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

type nopStrategy struct{}

func (nopStrategy) Extract(*scheme.Request, []byte) (scheme.Extracted, error) {
	return scheme.Extracted{}, nil
}

func (nopStrategy) Sign(*scheme.Request, []byte, scheme.Values, func([]byte) ([][]byte, error)) (http.Header, error) {
	return nil, nil
}

// TestReadmeSenders: the README's table of senders is what the registry
// makes. Regenerate it with
//
//	go test ./caddymodule -run TestReadmeSenders -update
func TestReadmeSenders(t *testing.T) {
	path := filepath.Join("..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	table, err := sendersMarkdown()
	if err != nil {
		t.Fatal(err)
	}
	want, err := replaceSenders(string(b), table)
	if err != nil {
		t.Fatal(err)
	}
	if want == string(b) {
		return
	}
	if *updateReadme {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("README.md: table of senders regenerated")
		return
	}
	t.Errorf("README.md's table of senders differs from the preset registry; regenerate it with\n\tgo test ./caddymodule -run TestReadmeSenders -update")
}

// TestSendersMarkdown: one row a preset, every cell escaped.
func TestSendersMarkdown(t *testing.T) {
	table, err := sendersMarkdown()
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	if len(rows) != len(preset.Names())+2 {
		t.Fatalf("%d rows for %d presets:\n%s", len(rows), len(preset.Names()), table)
	}
	cols := strings.Count(rows[0], " | ")
	for i, name := range preset.Names() {
		row := rows[i+2]
		e, _ := preset.Lookup(name)
		if !strings.HasPrefix(row, "| `"+name+"` |") || !strings.HasSuffix(row, "[docs]("+e.Docs+") |") || strings.Count(strings.ReplaceAll(row, `\|`, ""), " | ") != cols {
			t.Errorf("row of %s: %s", name, row)
		}
		if strings.ContainsAny(strings.ReplaceAll(row, "[docs]("+e.Docs+")", ""), "<>") {
			t.Errorf("row of %s has unescaped < or >: %s", name, row)
		}
	}
	if got := mdCell("a|b <ts> *x*"); got != `a\|b &lt;ts&gt; \*x\*` {
		t.Errorf("mdCell = %q", got)
	}
	if _, err := replaceSenders("no markers", table); err == nil {
		t.Error("a README without markers accepted")
	}
}

// TestSecretKeyPair: for a scheme that signs with a key pair, webhook
// secret prints a fresh pair, two labelled lines and nothing else, that
// read back with the scheme's parsers; a signature made with the private
// key verifies with the public one. No key pair preset is registered on
// this branch, so the schemes are built here; any registered one is
// checked through the command too.
func TestSecretKeyPair(t *testing.T) {
	schemes := []*scheme.Scheme{
		{Name: "test-v1a", HeaderSets: []scheme.Headers{{Signature: "Webhook-Signature", Timestamp: "Webhook-Timestamp", ID: "Webhook-Id"}},
			Format: scheme.Versioned{Version: "v1a"}, Algorithm: scheme.Ed25519{}, Encoding: scheme.Base64, Content: "{id}.{timestamp}.{body}", Tolerance: scheme.DefaultTolerance},
		{Name: "test-ecdsa", HeaderSets: []scheme.Headers{{Signature: "X-Signature", Timestamp: "X-Timestamp"}},
			Algorithm: scheme.ECDSAP256{}, Encoding: scheme.Base64, Content: "{timestamp}{body}", FixedWidthTime: true},
	}
	for _, s := range schemes {
		if err := s.Init(); err != nil {
			t.Fatal(err)
		}
		var out, errOut bytes.Buffer
		if err := runKeyPair(&out, &errOut, s); err != nil {
			t.Fatal(err)
		}
		checkKeyPair(t, s, out.String(), errOut.String())
	}
	for _, name := range preset.Names() {
		s, err := preset.Get(name, preset.Options{})
		if err != nil || !s.Asymmetric() {
			continue
		}
		out, stderr, err := runAll(t, "", "secret", "--scheme", name)
		if err != nil {
			t.Fatalf("secret --scheme %s: %v\n%s", name, err, stderr)
		}
		checkKeyPair(t, s, out, stderr)
		if _, _, err := runAll(t, "", "secret", "--scheme", name, "--bytes", "48"); err == nil || !strings.Contains(err.Error(), "key pair") {
			t.Errorf("secret --scheme %s --bytes 48: %v", name, err)
		}
	}
}

func checkKeyPair(t *testing.T, s *scheme.Scheme, out, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "private_key ") || !strings.HasPrefix(lines[1], "public_key ") {
		t.Fatalf("%s: stdout %q: want private_key <key> and public_key <key>, one line each", s.Name, out)
	}
	privText, pubText := strings.TrimPrefix(lines[0], "private_key "), strings.TrimPrefix(lines[1], "public_key ")
	priv, err := s.ParsePrivateKey(privText)
	if err != nil {
		t.Fatalf("%s: the private key does not parse: %v", s.Name, err)
	}
	pub, err := s.ParsePublicKey(pubText)
	if err != nil {
		t.Fatalf("%s: the public key does not parse: %v", s.Name, err)
	}
	msg := []byte("msg_1.1700000000.{\"a\":1}")
	m := s.Algorithm.Begin([]*scheme.Key{{Private: priv}})
	m.Write(msg)
	sig, err := m.Sign(0)
	if err != nil {
		t.Fatal(err)
	}
	v := s.Algorithm.Begin([]*scheme.Key{{Public: pub}})
	v.Write(msg)
	if i, _ := v.Match([][]byte{sig}); i != 0 {
		t.Errorf("%s: a signature made with the private key does not verify with the public one", s.Name)
	}
	v = s.Algorithm.Begin([]*scheme.Key{{Public: pub}})
	v.Write(append(msg, ' '))
	if i, _ := v.Match([][]byte{sig}); i != -1 {
		t.Errorf("%s: the signature verifies over another message", s.Name)
	}
	if strings.Contains(stderr, privText) {
		t.Errorf("%s: the advice repeats the private key", s.Name)
	}
	for _, w := range []string{"webhook_sign " + s.Name, "private_key {file./etc/caddy/webhook.key}", "webhook_verify " + s.Name, "public_key {file./etc/caddy/webhook.pub}", "> /etc/caddy/webhook.key;", "> /etc/caddy/webhook.pub;"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("%s: advice lacks %q:\n%s", s.Name, w, stderr)
		}
	}
}
