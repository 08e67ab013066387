package scheme

import "net/http"

// Request is what a sender may sign besides the body, as the request
// arrived.
type Request struct {
	Method string
	// URL is the absolute URL the sender called ("https://host/path?q"):
	// the caller rebuilds it from the request as it arrived (see the
	// caddymodule's public_url). Empty when unknown.
	URL    string
	Header http.Header
}

// Extracted is what a Strategy reads out of a request.
type Extracted struct {
	// Sigs are the signatures the request carries, decoded.
	Sigs [][]byte
	// Timestamp and ID as sent, "" where the sender sends none.
	Timestamp, ID string
	// IDSigned reports whether Message covers ID.
	IDSigned bool
	// Message is what the signatures sign.
	Message []byte
}

// A Strategy describes a sender that a Format and a content template
// cannot: its signature or what it signs is inside the body (Mailgun's
// form fields, Twilio's sorted form parameters), or it signs a token of its
// own (a JWT). It sees the whole body, so the verifier holds the body in
// memory for it: such schemes bound their bodies (Scheme.MaxBody).
type Strategy interface {
	// Extract reads the request and its body. A request it cannot read
	// gives an *Error (MissingHeader, MalformedHeader, WrongSignature
	// for a body that contradicts what was signed).
	Extract(r *Request, body []byte) (Extracted, error)
	// Sign returns the headers a sender would send with body: it builds
	// the message, has sign sign it (one signature per key, raw bytes),
	// and places the signatures. A sender whose signature is in the body
	// cannot be imitated by a signer that sends the body unchanged: it
	// returns an error saying so.
	Sign(r *Request, body []byte, v Values, sign func(msg []byte) ([][]byte, error)) (http.Header, error)
}

// A TimestampedStrategy is a Strategy whose sender signs a timestamp that
// travels where no header names it (Mailgun's, inside the body): the
// scheme is Timestamped, so its Tolerance applies and a route may set its
// own. Extract returns the timestamp as sent.
type TimestampedStrategy interface {
	Strategy
	Timestamped() bool
}

// A VerifyOnly Strategy describes a sender no signer can imitate (its
// signature travels in the body, which a signer sends unchanged): webhook_sign
// refuses it at load, with the reason VerifyOnly gives.
type VerifyOnly interface {
	VerifyOnly() string
}

// A Handshake answers a sender that checks the endpoint before it sends
// webhooks to it.
type Handshake interface {
	// Unsigned returns the answer to a handshake that carries no
	// signature (Dropbox's GET ?challenge=), from the request line and
	// headers alone, or nil when r is not one. Such a request never goes
	// on to the app.
	Unsigned(r *Request) *Answer
	// Signed returns the answer to a request that verified and is the
	// sender's handshake (Slack's url_verification), given its body and
	// the key that verified it, or nil when it is not one.
	Signed(r *Request, body []byte, key *Key) *Answer
}

// Answer is the response a handshake expects.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Gateway reports that only the gateway can give it (it needs the
	// secret, as Zoom's does): the request never goes on to the app.
	Gateway bool
}
