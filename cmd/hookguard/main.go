// Command hookguard is Caddy with its standard modules and the hookguard
// webhook modules built in: `hookguard run --config Caddyfile` is Caddy's
// own run command.
package main

import (
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules, and hookguard's.
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/hookguard/hookguard"
)

func main() {
	caddycmd.Main()
}
