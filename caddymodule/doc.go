// Package caddymodule holds hookguard's Caddy modules and their Caddyfile
// directives:
//
//   - webhook_verify (http.handlers.webhook_verify) checks a sender's
//     signature before a request goes on (WebhookVerify);
//   - webhook_sign (http.handlers.webhook_sign) signs a request on its way
//     to a receiver (WebhookSign);
//   - admin.api.webhooks serves the routes' state on Caddy's admin API;
//   - the webhook subcommands of the caddy command (secret, check-secret,
//     sign, verify, status).
//
// It is thin glue over the pure-Go packages verifier, signer, spool and
// replay: configuration, validation, metrics, logs and the request's way
// through Caddy live here, the cryptography and the stores there.
package caddymodule
