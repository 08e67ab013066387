// Package scheme describes how webhook senders sign: where the signature
// travels and how it is laid out (a Format), what computes and checks it
// (an Algorithm: HMAC, Ed25519, ECDSA, a plain token), what exactly is
// signed (a content template over the body, the timestamp, the delivery
// id, the method and the URL the sender called), how timestamps are
// written (a TimeFormat) and how configured keys are decoded. A sender
// that no data describes carries one small Strategy; a sender that checks
// the endpoint before it sends carries a Handshake.
//
// Package verifier checks requests against a Scheme and package signer
// signs with one; package preset names the senders' schemes. This package
// has no Caddy import.
package scheme
