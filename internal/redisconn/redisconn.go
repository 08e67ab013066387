// Package redisconn builds go-redis client options the way every Redis
// store of hookguard connects (replay, relay): an address or a URL,
// credentials, TLS 1.2 or later verifying the host, short timeouts so a
// dead Redis answers fast, one dial and one retry per command.
package redisconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// DefaultTimeout bounds each network step unless the options say.
const DefaultTimeout = time.Second

// Options are the connection settings shared by the stores.
type Options struct {
	Address, URL       string
	Username, Password string
	DB                 int
	TLS                bool
	TLSConfig          *tls.Config
	DialTimeout        time.Duration
	ReadTimeout        time.Duration
	WriteTimeout       time.Duration
	MaxRetries         int
	PoolSize           int
}

// Client returns go-redis's options for o. what names the store in
// errors ("replay", "relay"); no error quotes a password.
func Client(o Options, what string) (*redis.Options, error) {
	var ro *redis.Options
	switch {
	case o.URL != "" && o.Address != "":
		return nil, fmt.Errorf("%s: redis: both an address and a url", what)
	case o.URL != "":
		var err error
		if ro, err = redis.ParseURL(o.URL); err != nil {
			// ParseURL's errors do not echo the URL's password.
			return nil, fmt.Errorf("%s: redis: %w", what, err)
		}
	case o.Address != "":
		if _, _, err := net.SplitHostPort(o.Address); err != nil {
			return nil, fmt.Errorf("%s: redis address: %w", what, err)
		}
		ro = &redis.Options{Addr: o.Address}
	default:
		return nil, errors.New(what + ": redis: an address or a url is required")
	}
	if o.Username != "" {
		ro.Username = o.Username
	}
	if o.Password != "" {
		ro.Password = o.Password
	}
	if o.DB != 0 {
		ro.DB = o.DB
	}
	switch {
	case o.TLSConfig != nil:
		ro.TLSConfig = o.TLSConfig.Clone()
	case o.TLS && ro.TLSConfig == nil:
		ro.TLSConfig = &tls.Config{}
	}
	if ro.TLSConfig != nil {
		if ro.TLSConfig.ServerName == "" {
			host, _, _ := net.SplitHostPort(ro.Addr) // checked above, or by ParseURL
			ro.TLSConfig.ServerName = host
		}
		if ro.TLSConfig.MinVersion < tls.VersionTLS12 {
			ro.TLSConfig.MinVersion = tls.VersionTLS12
		}
	}
	ro.DialTimeout = OrDefault(o.DialTimeout, DefaultTimeout)
	ro.ReadTimeout = OrDefault(o.ReadTimeout, DefaultTimeout)
	ro.WriteTimeout = OrDefault(o.WriteTimeout, DefaultTimeout)
	// A dead Redis must answer fast: one dial per attempt (go-redis's
	// default of 5 with backoff costs half a second on a refused port),
	// and one retry, so a connection the server closed (a restart) is
	// redialled within the same call.
	ro.DialerRetries = 1
	ro.MaxRetries = o.MaxRetries
	if ro.MaxRetries == 0 {
		ro.MaxRetries = 1
	}
	if o.PoolSize > 0 {
		ro.PoolSize = o.PoolSize
	}
	// The caller's deadline or cancellation bounds a command too.
	ro.ContextTimeoutEnabled = true
	// Maintenance notifications (Redis Enterprise/Cloud handoffs) add a
	// handshake command per connection and a background watcher; the
	// stores reconnect on failure anyway.
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return ro, nil
}

// OrDefault is d, or def when d is zero.
func OrDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}
