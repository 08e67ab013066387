package caddymodule

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"hash"
	"net/http"
	"strings"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"

	"github.com/hookguard/hookguard/verifier"
)

// verifiedVar is the request variable under which webhook_verify hands
// webhook_sign what it verified, so that a re-signed webhook keeps the
// identity of the one that came in: a captured webhook replayed N times
// must not reach the app as N new messages with N new ids.
const verifiedVar = "hookguard.verified_delivery"

// verifiedDelivery is what webhook_verify verified about a request. Its
// type is unexported, so nothing else (a vars directive, another module)
// can put one in a request: webhook_sign only trusts a value of this type.
type verifiedDelivery struct {
	scheme string // the verifying route's scheme name
	id     string // the sender's delivery id, only where its signature covers it
	sig    []byte // the signature that matched; nil for token schemes
}

// String keeps {http.vars.hookguard.verified_delivery} from printing the
// signature.
func (d *verifiedDelivery) String() string { return "verified " + d.scheme + " webhook" }

// markVerified records a verified request for a webhook_sign further on.
// Call it only once the signature has been checked, never under
// insecure_unsigned.
func markVerified(r *http.Request, scheme string, res verifier.Result) {
	d := &verifiedDelivery{scheme: scheme, sig: res.Signature}
	if res.IDSigned {
		d.id = res.ID
	}
	caddyhttp.SetVar(r.Context(), verifiedVar, d)
}

// verifiedOf returns what webhook_verify verified about r, or nil.
func verifiedOf(r *http.Request) *verifiedDelivery {
	d, _ := caddyhttp.GetVar(r.Context(), verifiedVar).(*verifiedDelivery)
	return d
}

// idDigest starts the digest a derived delivery id is made of, for a
// sender whose id is not signed (GitHub's X-GitHub-Delivery, for one, can
// be changed by anyone who replays the webhook): SHA-256 of a domain
// label, the scheme name and the matched signature, each length-prefixed
// so no two inputs run together, then the body (written by the caller).
// The same webhook always gets the same id; a token scheme's id depends on
// the body alone, since its token is the secret and must not be hashed
// into a value that is sent on.
func (d *verifiedDelivery) idDigest() hash.Hash {
	h := sha256.New()
	h.Write([]byte("hookguard derived webhook id v1\x00"))
	for _, field := range [][]byte{[]byte(d.scheme), d.sig} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(field)))
		h.Write(n[:])
		h.Write(field)
	}
	return h
}

// derivedID formats a digest as a message id in signer.NewID's style.
func derivedID(sum []byte) string {
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:16]))
}
