package caddymodule

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
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
	// digest identifies the delivery: the signature that matched (it
	// covers the body), or for a token scheme, which signs nothing, the
	// body's SHA-256 (never the token: it is the secret).
	digest []byte
}

// String keeps {http.vars.hookguard.verified_delivery} from printing the
// signature.
func (d *verifiedDelivery) String() string { return "verified " + d.scheme + " webhook" }

// markVerified records a verified request for a webhook_sign further on.
// Call it only once the signature has been checked, never under
// insecure_unsigned.
func markVerified(r *http.Request, scheme string, res verifier.Result) {
	d := &verifiedDelivery{scheme: scheme, digest: res.Signature}
	if d.digest == nil {
		d.digest = res.BodyDigest
	}
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

// outgoingID is the delivery id a re-signed webhook goes out with: the
// sender's own where its signature covers it, else one derived from what
// was verified (GitHub's X-GitHub-Delivery, for one, can be changed by
// anyone who replays the webhook): SHA-256 of a domain label, the scheme
// name and the digest, each length-prefixed so no two inputs run together,
// in signer.NewID's msg_ style. The same webhook always gets the same id.
// It is known before the body is read, so webhook_sign still signs in the
// pass that reads the body.
func (d *verifiedDelivery) outgoingID() string {
	if d.id != "" {
		return d.id
	}
	h := sha256.New()
	h.Write([]byte("hookguard derived webhook id v1\x00"))
	for _, field := range [][]byte{[]byte(d.scheme), d.digest} {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(field)))
		h.Write(n[:])
		h.Write(field)
	}
	return "msg_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h.Sum(nil)[:16]))
}
