package preset

import "testing"

// TestSlackHandshakeExactNames: only a body whose own "type" member is
// url_verification is a handshake, not one with a look-alike name.
func TestSlackHandshakeExactNames(t *testing.T) {
	for body, want := range map[string]bool{
		`{"type":"url_verification","challenge":"c1"}`:                         true,
		`{"type":"event_callback","TYPE":"url_verification","challenge":"c2"}`: false,
		`{"Type":"url_verification","challenge":"c3"}`:                         false,
		`{"type":"url_verification","challenge":"c4","Challenge":"x"}`:         false,
		`{"type":"url_verification"}`:                                          false,
		`[1]`:                                                                  false,
	} {
		if got := (slackHandshake{}).Signed(nil, []byte(body), nil) != nil; got != want {
			t.Errorf("%s: handshake %v, want %v", body, got, want)
		}
	}
}
