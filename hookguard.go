// Package hookguard registers the hookguard Caddy modules. It only
// blank-imports caddymodule, so that
//
//	xcaddy build --with github.com/hookguard/hookguard
//
// brings webhook_verify and webhook_sign into a Caddy build.
package hookguard

import (
	_ "github.com/hookguard/hookguard/caddymodule"
)
