package verifier_test

import (
	"bytes"
	"crypto/elliptic"
	"encoding/base64"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookguard/hookguard/preset"
	"github.com/hookguard/hookguard/scheme"
	"github.com/hookguard/hookguard/verifier"
)

// TestPlaidTwinSameDelivery (review of the presets): Plaid's ES256 token
// with its twin signature (r, N-s) verifies too; it must name the same
// delivery, or replay protection lets each webhook through twice.
func TestPlaidTwinSameDelivery(t *testing.T) {
	s := mustPreset(t, "plaid", preset.Options{})
	jwk := `{"alg":"ES256","created_at":1560466143,"crv":"P-256","expired_at":null,"kid":"6c5516e1-92dc-479e-a8ff-5a51992e0001","kty":"EC","use":"sig","x":"35lvC8uz2QrWpQJ3TUH8t9o9DURMp7ydU518RKDl20k","y":"I8BuXB2bvxelzJAd7OKhd-ZwjCst05Fx47Mb_0ugros"}`
	pub, err := s.ParsePublicKey(jwk)
	if err != nil {
		t.Fatal(err)
	}
	k := scheme.Key{Label: "k", Public: pub}
	body := []byte("{\n  \"error\": null,\n  \"item_id\": \"yxQbxDjnD8hr69pKbQpbcKeVn3GL9QuyA7NV3\",\n  \"new_transactions\": 390,\n  \"webhook_code\": \"HISTORICAL_UPDATE\",\n  \"webhook_type\": \"TRANSACTIONS\"\n}")
	tok := "eyJhbGciOiJFUzI1NiIsImtpZCI6IjZjNTUxNmUxLTkyZGMtNDc5ZS1hOGZmLTVhNTE5OTJlMDAwMSIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1OTA4ODcwMDEsInJlcXVlc3RfYm9keV9zaGEyNTYiOiJiNjNhMDdiNTQ3YjAwZjk5MjU0N2Y2YmJjOGQ5YWNjNjFhOGNjZWUxMzhiYzgyZjQ0YTZiYWEwOTY4M2E1ZDBmIn0.OOKvIihgqCj7Qrb2bmz7T3t7uK-0JyjiEqL2s1kWeJBM4MMmjaHKK8GmU_z91QolBWMzvPgs718EElY-rE3cwQ"
	now := time.Unix(1590887061, 0)
	req := func(tok string) verifier.Request {
		return verifier.Request{Method: "POST", URL: "https://example.com/webhooks/plaid", Header: http.Header{"Plaid-Verification": {tok}, "Content-Type": {"application/json"}}}
	}
	res1, err := verifier.VerifyRequest(s, req(tok), body, []scheme.Key{k}, 5*time.Minute, now)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(tok, '.')
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	sNew := new(big.Int).Sub(elliptic.P256().Params().N, new(big.Int).SetBytes(sig[32:]))
	twin := append(append([]byte{}, sig[:32]...), sNew.FillBytes(make([]byte, 32))...)
	tok2 := tok[:i+1] + base64.RawURLEncoding.EncodeToString(twin)

	res2, err := verifier.VerifyRequest(s, req(tok2), body, []scheme.Key{k}, 5*time.Minute, now)
	if err != nil {
		t.Fatalf("twin refused: %v", err)
	}
	if !bytes.Equal(res1.Signature, res2.Signature) {
		t.Errorf("the twin signature names another delivery: %x vs %x (IDSigned=%v id=%q)", res1.Signature[:8], res2.Signature[:8], res2.IDSigned, res2.ID)
	}
}
