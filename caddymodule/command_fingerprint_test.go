package caddymodule

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	// The file_system storage module, for a config's storage block.
	_ "github.com/caddyserver/caddy/v2/modules/filestorage"
	"github.com/caddyserver/certmagic"
)

// TestFingerprintCommand (issue 12, item 9): `webhook fingerprint` prints
// the label a provisioned webhook_verify shows for the same secret with
// the same storage (a whsec_ key of standard by its decoded bytes); with
// no key in storage it says so and makes none; a weak secret gets the
// rule of neutral labels, not a fingerprint; --scheme is required.
func TestFingerprintCommand(t *testing.T) {
	st := &certmagic.FileStorage{Path: t.TempDir()}
	useCLIStorage(t, st)
	strong := "kX3vQ9mR2pL8nT5wY7zB4cF6"

	_, stderr, err := runAll(t, strong+"\n", "fingerprint", "--scheme", "github")
	if err == nil || !strings.Contains(err.Error(), "no fingerprint key (hookguard/fingerprint.key) in "+st.Path) ||
		!strings.Contains(err.Error(), "never makes one") || !strings.HasPrefix(stderr, "Error: ") {
		t.Errorf("no key: err=%v stderr=%q", err, stderr)
	}
	if _, err := ReadFingerprintKey(context.Background(), st); err == nil {
		t.Fatal("the fingerprint command made a key")
	}

	server := provisionedLabel(t, contextWithStorage(t, st), strong)
	out, _, err := runAll(t, strong+"\n", "fingerprint", "--scheme", "github")
	if err != nil || out != server+"\n" {
		t.Errorf("fingerprint = %q (err %v), the gateway shows %s", out, err, server)
	}

	key := "whsec_" + base64.StdEncoding.EncodeToString([]byte("k\x93X3\x01vQ9mR2\xfepL8nT5wY7zB4cF6\x00\x11"))
	v := &WebhookVerify{Scheme: "standard", Secrets: []Secret{{Value: key}}}
	if err := v.Provision(contextWithStorage(t, st)); err != nil {
		t.Fatal(err)
	}
	out, _, err = runAll(t, key+"\n", "fingerprint", "--scheme", "standard")
	if err != nil || out != v.route.keys[0].Label+"\n" {
		t.Errorf("standard: fingerprint = %q (err %v), the gateway shows %s", out, err, v.route.keys[0].Label)
	}

	out, stderr, err = runAll(t, "Password1234567890!\n", "fingerprint", "--scheme", "github")
	if !errors.Is(err, errWeak) || stderr != "" || strings.Contains(out, "fp-") ||
		!strings.Contains(out, "secret-N: a weak secret (this one breaks rule common) gets no fingerprint: the gateway names it by its position among the route's secrets (secret-1, secret-2, ...)") {
		t.Errorf("weak secret: err=%v stderr=%q out=%q", err, stderr, out)
	}

	if _, _, err := runAll(t, strong+"\n", "fingerprint"); err == nil || !strings.Contains(err.Error(), "give --scheme") {
		t.Errorf("no --scheme: %v", err)
	}
	if _, _, err := runAll(t, "", "fingerprint", "--scheme", "github"); err == nil || !strings.Contains(err.Error(), "the secret is empty") {
		t.Errorf("empty secret: %v", err)
	}
	if _, _, err := runAll(t, strong+"\n", "fingerprint", "--scheme", "hmac"); err != nil {
		t.Errorf("--scheme hmac: %v", err)
	}
}

// TestFingerprintCommandConfigStorage: with --config, the key comes from
// the storage that config names, as the gateway's does, not from the
// default storage.
func TestFingerprintCommandConfigStorage(t *testing.T) {
	useCLIStorage(t, &certmagic.FileStorage{Path: t.TempDir()}) // the default: no key
	dir := t.TempDir()
	config := filepath.Join(t.TempDir(), "Caddyfile")
	if err := os.WriteFile(config, []byte("{\n\tstorage file_system "+dir+"\n}\n\n:0 {\n\trespond ok\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	strong := "kX3vQ9mR2pL8nT5wY7zB4cF6"
	server := provisionedLabel(t, contextWithStorage(t, &certmagic.FileStorage{Path: dir}), strong)

	out, stderr, err := runAll(t, strong+"\n", "fingerprint", "--scheme", "github", "--config", config, "--adapter", "caddyfile")
	if err != nil || out != server+"\n" {
		t.Errorf("fingerprint --config = %q (err %v, %s), the gateway shows %s", out, err, stderr, server)
	}
	if _, _, err := runAll(t, strong+"\n", "fingerprint", "--scheme", "github"); err == nil {
		t.Error("the default storage, which has no key, gave a fingerprint")
	}
	if _, _, err := runAll(t, strong+"\n", "fingerprint", "--scheme", "github", "--adapter", "caddyfile"); err == nil || !strings.Contains(err.Error(), "--adapter is for --config") {
		t.Errorf("--adapter alone: %v", err)
	}
}
