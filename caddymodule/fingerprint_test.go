package caddymodule

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/signer"
)

// testStorage is the storage unit tests keep the fingerprint key in: one
// fixed directory under the temp dir, reused by every run (a fresh one per
// run would pile up, as removing it would need a TestMain), never the
// user's Caddy data directory.
var testStorage = sync.OnceValue(func() certmagic.Storage {
	return &certmagic.FileStorage{Path: filepath.Join(os.TempDir(), "hookguard-caddymodule-test-storage")}
})

// contextWithStorage is newTestContext with storage st.
func contextWithStorage(t *testing.T, st certmagic.Storage) caddy.Context {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.WithValue(context.Background(), storageCtxKey{}, st)})
	t.Cleanup(cancel)
	return ctx
}

// oldFingerprint is the label an unlabeled secret had before issue 7: an
// unkeyed, domain-separated SHA-256, testable offline against a word list.
func oldFingerprint(key []byte) string {
	h := sha256.New()
	h.Write([]byte("hookguard key fingerprint\x00"))
	h.Write(key)
	return "fp-" + hex.EncodeToString(h.Sum(nil)[:4])
}

// TestFingerprintKeyedByStorage (issue 7, finding 13): an unlabeled secret's
// label is keyed with the installation key in Caddy's storage: not the old
// unkeyed hash, the same for every provision that shares the storage,
// different for another storage. The key is made once, 32 bytes.
func TestFingerprintKeyedByStorage(t *testing.T) {
	secret := "kX3vQ9mR2pL8nT5wY7zB4cF6"
	stA := &certmagic.FileStorage{Path: t.TempDir()}
	stB := &certmagic.FileStorage{Path: t.TempDir()}

	a1 := provisionedLabel(t, contextWithStorage(t, stA), secret)
	a2 := provisionedLabel(t, contextWithStorage(t, stA), secret)
	b := provisionedLabel(t, contextWithStorage(t, stB), secret)
	if a1 != a2 {
		t.Errorf("two provisions with one storage: labels %s and %s", a1, a2)
	}
	if a1 == b {
		t.Errorf("two storages give one label %s: the fingerprint does not depend on the storage's key", a1)
	}
	if old := oldFingerprint([]byte(secret)); a1 == old || b == old {
		t.Errorf("label %s is the old unkeyed fingerprint", old)
	}
	keyA, err := os.ReadFile(filepath.Join(stA.Path, filepath.FromSlash(FingerprintKeyName)))
	if err != nil || len(keyA) != 32 {
		t.Fatalf("fingerprint key in storage: %d bytes, err %v", len(keyA), err)
	}
	if want := Fingerprint(keyA, []byte(secret)); a1 != want {
		t.Errorf("label %s, want Fingerprint(storage key, secret) = %s", a1, want)
	}
	if bytes.Equal(keyA, make([]byte, 32)) {
		t.Error("the fingerprint key is all zero")
	}
}

// provisionedLabel provisions webhook_verify github with secret, unlabeled,
// and returns the label it got.
func provisionedLabel(t *testing.T, ctx caddy.Context, secret string) string {
	t.Helper()
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{{Value: secret}}}
	if err := v.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	return v.route.keys[0].Label
}

// TestFingerprintKeyCreatedOnce: instances starting at once against one
// storage agree on one key.
func TestFingerprintKeyCreatedOnce(t *testing.T) {
	st := &certmagic.FileStorage{Path: t.TempDir()}
	const n = 3 // a FileStorage lock polls each second: keep the wait short
	keys := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			keys[i], errs[i] = LoadFingerprintKey(context.Background(), st)
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatal("concurrent loads made different keys")
		}
	}
	if err := st.Store(context.Background(), FingerprintKeyName, []byte("short")); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFingerprintKey(context.Background(), st); err == nil {
		t.Fatal("a corrupt fingerprint key was accepted")
	}
}

// TestVerifyCommandFingerprints: `webhook verify` names a strong secret by
// the fingerprint the server shows for it, from the key in Caddy's default
// storage; with no key there it shows no fingerprint (and makes no key);
// a weak secret never gets one.
func TestVerifyCommandFingerprints(t *testing.T) {
	st := &certmagic.FileStorage{Path: t.TempDir()}
	saved := cliStorage
	cliStorage = func() certmagic.Storage { return st }
	t.Cleanup(func() { cliStorage = saved })

	strong, weak := "kX3vQ9mR2pL8nT5wY7zB4cF6", "Password1234567890!"
	s, _ := preset.Get("slack", preset.Options{})
	now := time.Unix(1_700_000_000, 0)
	body := []byte("token=abc&team_id=T1")
	capture := func(secret string) string {
		return rawCapture(signer.Sign(s, [][]byte{[]byte(secret)}, signer.Message{Body: body, Time: now}), body)
	}
	verify := func(secret string) string {
		t.Helper()
		out, err := run(t, capture(secret), "verify", "--scheme", "slack", "--secret-file", writeSecret(t, secret), "--at", "1700000000")
		if err != nil {
			t.Fatalf("verify: %v\n%s", err, out)
		}
		return out
	}

	out := verify(strong)
	if strings.Contains(out, "fp-") {
		t.Errorf("with no fingerprint key in storage, verify shows a fingerprint:\n%s", out)
	}
	if _, err := ReadFingerprintKey(context.Background(), st); err == nil {
		t.Error("the CLI made a fingerprint key")
	}

	// The server makes the key; the CLI then shows the server's label.
	server := provisionedLabel(t, contextWithStorage(t, st), strong)
	if out := verify(strong); !strings.Contains(out, server) {
		t.Errorf("verify does not show the server's label %s:\n%s", server, out)
	}
	if out := verify(weak); strings.Contains(out, "fp-") {
		t.Errorf("verify shows a fingerprint of a weak secret:\n%s", out)
	}
}

// TestWeakSecretLabel: an unlabeled weak secret is named by its position,
// never by a fingerprint (issue 7, finding 13); a label given stays.
func TestWeakSecretLabel(t *testing.T) {
	v := &WebhookVerify{Scheme: "github", Secrets: []Secret{
		{Value: "kX3vQ9mR2pL8nT5wY7zB4cF6"}, {Value: "Password1234567890!"}, {Value: "Password0987654321!", Label: "legacy"},
	}}
	if err := provision(t, v); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, k := range v.route.keys {
		got = append(got, k.Label)
	}
	if !strings.HasPrefix(got[0], "fp-") || got[1] != "secret-2" || got[2] != "legacy" {
		t.Fatalf("labels %q, want [fp-... secret-2 legacy]", got)
	}
}
