package preset_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/signer"
	"github.com/hookguard/hookguard/verifier"
)

// vectorFile is one sender's proof: requests its own material (a
// published example, its official library) says are valid or not.
type vectorFile struct {
	Preset string       `json:"preset"`
	Docs   string       `json:"docs"`
	Proof  string       `json:"proof"`
	Notes  string       `json:"notes"`
	Cases  []vectorCase `json:"cases"`
}

type vectorCase struct {
	Name       string            `json:"name"`
	Secret     string            `json:"secret"`
	PublicKey  string            `json:"public_key"`
	PrivateKey string            `json:"private_key"`
	Method     string            `json:"method"`
	URL        string            `json:"url"`
	Headers    map[string]string `json:"headers"`
	Body       string            `json:"body"`
	BodyBase64 string            `json:"body_base64"`
	Now        int64             `json:"now"`
	Valid      bool              `json:"valid"`
	// NoSign marks a valid case our signer cannot reproduce byte for byte
	// (a signature over a body field, a randomised ECDSA signature), with
	// the reason.
	NoSign    string     `json:"no_sign"`
	Handshake *handshake `json:"handshake"`
}

type handshake struct {
	Status      int               `json:"status"`
	ContentType string            `json:"content_type"`
	Body        string            `json:"body"`
	Headers     map[string]string `json:"headers"`
}

// elsewhere are the presets whose proof predates this directory, with
// where it is.
var elsewhere = map[string]string{
	"github":    "verifier/vectors_test.go: GitHub's published example; integration: octokit-style signatures",
	"gitlab":    "verifier/vectors_test.go: GitLab's documented token header",
	"bitbucket": "verifier/vectors_test.go: the documented algorithm",
	"stripe":    "integration/interop: github.com/stripe/stripe-go/v85 webhook.ConstructEvent both ways",
	"slack":     "verifier/vectors_test.go: Slack's published example",
	"shopify":   "verifier/vectors_test.go: the documented algorithm",
	"standard":  "integration/interop: github.com/standard-webhooks/standard-webhooks/libraries both ways",
	"svix":      "integration/interop: github.com/svix/svix-webhooks both ways; Svix's published example",
	"decsys":    "verifier/vectors_test.go: the documented algorithm (SPEC)",
}

func loadVectors(t *testing.T) map[string]vectorFile {
	t.Helper()
	files, err := filepath.Glob("testdata/vectors/*.json")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]vectorFile{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var v vectorFile
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if want := strings.TrimSuffix(filepath.Base(f), ".json"); v.Preset != want {
			t.Fatalf("%s: preset %q, want %q", f, v.Preset, want)
		}
		out[v.Preset] = v
	}
	return out
}

// TestEveryPresetHasProof: no preset without a proof, and every proof
// names its source and the sender's docs.
func TestEveryPresetHasProof(t *testing.T) {
	vs := loadVectors(t)
	for _, e := range preset.Entries() {
		if where, ok := elsewhere[e.Name]; ok {
			if where == "" {
				t.Errorf("%s: empty proof", e.Name)
			}
			continue
		}
		v, ok := vs[e.Name]
		if !ok {
			t.Errorf("%s: no testdata/vectors/%s.json", e.Name, e.Name)
			continue
		}
		valid := 0
		for _, c := range v.Cases {
			if c.Valid {
				valid++
			}
		}
		if v.Proof == "" || !strings.HasPrefix(v.Docs, "https://") || valid == 0 {
			t.Errorf("%s: proof %q, docs %q, %d valid cases", e.Name, v.Proof, v.Docs, valid)
		}
		if !strings.HasPrefix(e.Docs, "https://") || e.Signed == "" {
			t.Errorf("%s: entry lacks docs or what is signed", e.Name)
		}
	}
	for name := range vs {
		if _, ok := preset.Lookup(name); !ok {
			t.Errorf("testdata/vectors/%s.json: no such preset", name)
		}
	}
}

// TestVectors checks every case of every sender's vectors: valid ones
// verify (and, where the sender answers a handshake, are answered as it
// expects), invalid ones are refused, and our signer makes, for the same
// secret, time, id and body, the header the sender made.
func TestVectors(t *testing.T) {
	for name, v := range loadVectors(t) {
		for _, c := range v.Cases {
			t.Run(name+"/"+c.Name, func(t *testing.T) { checkCase(t, name, c) })
		}
	}
}

func checkCase(t *testing.T, name string, c vectorCase) {
	s, err := preset.Get(name, preset.Options{})
	if err != nil {
		t.Fatal(err)
	}
	key := scheme.Key{Label: "vector"}
	if c.Secret != "" {
		if key.Secret, err = s.DecodeSecret(c.Secret); err != nil {
			t.Fatal(err)
		}
	}
	if c.PublicKey != "" {
		if key.Public, err = s.ParsePublicKey(c.PublicKey); err != nil {
			t.Fatal(err)
		}
	}
	if c.PrivateKey != "" {
		if key.Private, err = s.ParsePrivateKey(c.PrivateKey); err != nil {
			t.Fatal(err)
		}
	}
	h := http.Header{}
	for k, val := range c.Headers {
		h.Set(k, val)
	}
	body := []byte(c.Body)
	if c.BodyBase64 != "" {
		if body, err = base64.StdEncoding.DecodeString(c.BodyBase64); err != nil {
			t.Fatal(err)
		}
	}
	method := c.Method
	if method == "" {
		method = http.MethodPost
	}
	req := scheme.Request{Method: method, URL: c.URL, Header: h}
	now := time.Unix(c.Now, 0)
	if c.Handshake != nil && s.Handshake != nil {
		if ans := s.Handshake.Unsigned(&req); ans != nil {
			checkAnswer(t, ans, c.Handshake)
			return
		}
	}
	res, err := verifier.VerifyRequest(s, req, body, []scheme.Key{key}, s.Tolerance, now)
	if !c.Valid {
		if err == nil {
			t.Fatalf("invalid case verified")
		}
		return
	}
	if err != nil {
		t.Fatalf("valid case refused: %v", err)
	}
	if c.Handshake != nil {
		if s.Handshake == nil {
			t.Fatalf("the case expects a handshake answer; the preset has no handshake")
		}
		ans := s.Handshake.Signed(&req, body, &key)
		if ans == nil {
			t.Fatalf("no handshake answer")
		}
		checkAnswer(t, ans, c.Handshake)
	}
	if c.NoSign != "" || s.Compares() {
		return
	}
	// Our signer, given what the sender had, makes what the sender sent.
	msg := signer.Message{Body: body, ID: res.ID, Method: method, URL: c.URL, Time: now}
	if res.Timestamp != "" {
		sec, ok := s.Time.Parse(res.Timestamp, false)
		if !ok {
			t.Fatalf("timestamp %q", res.Timestamp)
		}
		msg.Time = time.Unix(sec, 0)
		switch s.Time {
		case scheme.RFC3339:
			if tt, err := time.Parse(time.RFC3339Nano, res.Timestamp); err == nil {
				msg.Time = tt
			}
		case scheme.UnixMillis:
			ms, _ := scheme.ParseTimestamp(res.Timestamp)
			msg.Time = time.UnixMilli(ms)
		}
	}
	got, err := signer.SignKeys(s, []scheme.Key{key}, msg)
	if err != nil {
		t.Fatalf("signing: %v", err)
	}
	set := res.Headers
	if set.Signature == "" {
		set = s.HeaderSets[0]
	}
	if g, w := got.Get(s.HeaderSets[0].Signature), h.Get(set.Signature); g != w {
		t.Errorf("signer made %s: %q, the sender sent %q", s.HeaderSets[0].Signature, g, w)
	}
}

func checkAnswer(t *testing.T, got *scheme.Answer, want *handshake) {
	t.Helper()
	if got.Status != want.Status || string(got.Body) != want.Body {
		t.Errorf("handshake answered %d %q, want %d %q", got.Status, got.Body, want.Status, want.Body)
	}
	if want.ContentType != "" && !strings.HasPrefix(got.Header.Get("Content-Type"), want.ContentType) {
		t.Errorf("handshake Content-Type %q, want %q", got.Header.Get("Content-Type"), want.ContentType)
	}
	for k, v := range want.Headers {
		if got.Header.Get(k) != v {
			t.Errorf("handshake header %s = %q, want %q", k, got.Header.Get(k), v)
		}
	}
}
