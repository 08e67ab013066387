package preset

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/hookguard/hookguard/scheme"
)

func init() {
	register(Entry{
		Name: "slack", Sender: "Slack", Family: "chat",
		Docs:   "https://api.slack.com/authentication/verifying-requests-from-slack",
		Signed: "HMAC-SHA256 of v0:timestamp:body, hex, after v0=",
		Notes:  "url_verification handshake: goes to the app, or answered with handshake answer",
		Build: func(Options) *scheme.Scheme {
			return &scheme.Scheme{
				HeaderSets: []scheme.Headers{{Signature: "X-Slack-Signature", Timestamp: "X-Slack-Request-Timestamp"}},
				Format:     scheme.Single{Prefix: "v0="},
				Algorithm:  scheme.HMACSHA256, Encoding: scheme.Hex,
				Content:   "v0:{timestamp}:{body}",
				Tolerance: scheme.DefaultTolerance,
				Handshake: slackHandshake{},
			}
		},
	})
}

// slackHandshake answers the Events API's url_verification: a signed
// request whose JSON body carries a challenge to send back.
// https://api.slack.com/events/url_verification
type slackHandshake struct{}

func (slackHandshake) Unsigned(*scheme.Request) *scheme.Answer { return nil }

func (slackHandshake) Signed(_ *scheme.Request, body []byte, _ *scheme.Key) *scheme.Answer {
	m := exactJSON(body)
	if m["type"] != "url_verification" || m["challenge"] == "" {
		return nil
	}
	return PlainAnswer(m["challenge"])
}

// exactJSON reads the string members of a JSON object by their exact
// names: encoding/json matches names without regard to case and keeps the
// last of repeated ones, so {"type":"event_callback","TYPE":"url_verification"}
// would read as a handshake. A name given twice, in any case, reads as
// nothing. Members that are not strings are left out.
func exactJSON(body []byte) map[string]string {
	var raw map[string]json.RawMessage
	if json.Unmarshal(body, &raw) != nil {
		return nil
	}
	seen := map[string]bool{}
	out := map[string]string{}
	for k, v := range raw {
		folded := strings.ToLower(k)
		if seen[folded] {
			return nil
		}
		seen[folded] = true
		var str string
		if json.Unmarshal(v, &str) == nil {
			out[k] = str
		}
	}
	return out
}

// PlainAnswer is a 200 text/plain answer with body text, marked so that no
// browser sniffs it as anything else: handshakes echo text the sender
// chose.
func PlainAnswer(text string) *scheme.Answer {
	return &scheme.Answer{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "X-Content-Type-Options": {"nosniff"}},
		Body:   []byte(text),
	}
}

// JSONAnswer is a 200 application/json answer with v encoded.
func JSONAnswer(v any) *scheme.Answer {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return &scheme.Answer{
		Status: http.StatusOK,
		Header: http.Header{"Content-Type": {"application/json"}, "X-Content-Type-Options": {"nosniff"}},
		Body:   b,
	}
}
