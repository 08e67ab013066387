package caddymodule

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/certmagic"
)

// FingerprintKeyName is where, in Caddy's storage, the installation's
// fingerprint key lives: 32 random bytes made the first time a config
// needs a fingerprint, shared by every instance that shares the storage.
const FingerprintKeyName = "hookguard/fingerprint.key"

const fingerprintKeyBytes = 32

// Fingerprint names key in logs, metrics and {http.webhook.key} without
// revealing it: the first 8 hex digits of HMAC-SHA256 keyed with the
// installation's fingerprint key. An unkeyed short hash would be an offline
// oracle: anyone who sees it in a log or a dashboard could test a password
// list against it in milliseconds. Keyed, it tells nothing to whoever does
// not hold Caddy's storage, and still names the same secret the same way
// across reloads and across instances that share the storage.
func Fingerprint(installKey, key []byte) string {
	m := hmac.New(sha256.New, installKey)
	m.Write(key)
	return "fp-" + hex.EncodeToString(m.Sum(nil)[:4])
}

// LoadFingerprintKey returns the installation's fingerprint key from st,
// creating it if there is none yet. Creation happens under st's lock, and
// the key is looked for again once the lock is held, so two instances
// starting at once, or a reload racing the first start, agree on one key.
func LoadFingerprintKey(ctx context.Context, st certmagic.Storage) ([]byte, error) {
	if key, err := ReadFingerprintKey(ctx, st); !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	// A storage lock can be held by an instance that died; certmagic's
	// storages expire stale locks, but a config load must not wait for
	// ever on a storage that does not answer.
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := st.Lock(ctx, FingerprintKeyName); err != nil {
		return nil, fmt.Errorf("locking %s in storage: %w", FingerprintKeyName, err)
	}
	defer func() {
		// The key is stored (or not) by now; a lock that cannot be
		// released goes stale and the storage clears it.
		_ = st.Unlock(context.WithoutCancel(ctx), FingerprintKeyName)
	}()
	if key, err := ReadFingerprintKey(ctx, st); !errors.Is(err, fs.ErrNotExist) {
		return key, err
	}
	key := make([]byte, fingerprintKeyBytes)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("making a fingerprint key: %w", err)
	}
	if err := st.Store(ctx, FingerprintKeyName, key); err != nil {
		return nil, fmt.Errorf("storing %s: %w", FingerprintKeyName, err)
	}
	return key, nil
}

// ReadFingerprintKey returns the installation's fingerprint key from st,
// or an error wrapping fs.ErrNotExist if there is none; it never creates
// one.
func ReadFingerprintKey(ctx context.Context, st certmagic.Storage) ([]byte, error) {
	key, err := st.Load(ctx, FingerprintKeyName)
	if errors.Is(err, fs.ErrNotExist) {
		// Not st itself: a storage module's fields may hold its
		// credentials.
		return nil, fmt.Errorf("no %s in storage: %w", FingerprintKeyName, fs.ErrNotExist)
	}
	if err != nil {
		return nil, fmt.Errorf("loading %s from storage: %w", FingerprintKeyName, err)
	}
	if len(key) != fingerprintKeyBytes {
		// Not replaced silently: every unlabeled secret's name would
		// change under the operator's feet.
		return nil, fmt.Errorf("%s in storage holds %d bytes, not %d: remove it and a new one is made (unlabeled secrets then get new fingerprints)", FingerprintKeyName, len(key), fingerprintKeyBytes)
	}
	return key, nil
}

// storageCtxKey carries, in the context.Context of a caddy.Context, the
// storage to keep the fingerprint key in. Only unit tests set it: their
// Context comes from caddy.NewContext without a config, and
// caddy.Context.Storage would dereference the missing config.
type storageCtxKey struct{}

// configStorage is the storage of the config being provisioned.
func configStorage(ctx caddy.Context) certmagic.Storage {
	if st, ok := ctx.Value(storageCtxKey{}).(certmagic.Storage); ok {
		return st
	}
	return ctx.Storage()
}
