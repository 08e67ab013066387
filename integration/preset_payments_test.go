package integration

// The payments presets end to end, for what the generic preset tests
// cannot show: requests as the senders sent them (their published
// vectors, a real Plaid webhook), requests signed by the senders' official
// Go libraries, what webhook_sign sends checked by those libraries, the
// URL Square signs behind a rewrite and public_url, and WooCommerce's
// creation ping.
//
// Official Go libraries (test dependencies, integration/go.mod only):
//   - github.com/PaddleHQ/paddle-go-sdk/v4 v4.1.0: NewWebhookVerifier.Verify
//   - github.com/razorpay/razorpay-go v1.3.3: utils.VerifyWebhookSignature
//   - github.com/standard-webhooks/standard-webhooks/libraries v0.0.1:
//     NewWebhookRaw(client secret).Sign/Verify, as BigCommerce's docs use it

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paddle "github.com/PaddleHQ/paddle-go-sdk/v4"
	razorpayutils "github.com/razorpay/razorpay-go/utils"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// paymentsVector is one case of preset/testdata/vectors/<name>.json.
type paymentsVector struct {
	Name      string            `json:"name"`
	Secret    string            `json:"secret"`
	PublicKey string            `json:"public_key"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      string            `json:"body"`
	Now       int64             `json:"now"`
	Valid     bool              `json:"valid"`
}

// paymentsCase returns the case of preset name whose name starts with prefix.
func paymentsCase(t *testing.T, name, prefix string) paymentsVector {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "preset", "testdata", "vectors", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []paymentsVector }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		if strings.HasPrefix(c.Name, prefix) {
			return c
		}
	}
	t.Fatalf("%s.json has no case %q", name, prefix)
	return paymentsVector{}
}

func (c paymentsVector) header() http.Header {
	h := http.Header{}
	for k, v := range c.Headers {
		h.Set(k, v)
	}
	h.Del("Content-Length") // the client sets its own
	return h
}

func TestPaymentsPresetsEndToEnd(t *testing.T) {
	skipShort(t)
	up := newUpstream(t)

	paddlePub := paymentsCase(t, "paddle", "published vector (")
	razorPub := paymentsCase(t, "razorpay", "published vector (razorpay-go resources")
	squarePub := paymentsCase(t, "square", "published vector (")
	squareUnescaped := paymentsCase(t, "square", "published vector: unescaped")
	coinbasePub := paymentsCase(t, "coinbase", "published vector (")
	plaidReal := paymentsCase(t, "plaid", "real Plaid webhook (")
	jwk := filepath.Join(t.TempDir(), "plaid.jwk")
	if err := os.WriteFile(jwk, []byte(plaidReal.PublicKey), 0o600); err != nil {
		t.Fatal(err)
	}

	paddleSecret, bcSecret, wooSecret, dsOld, dsNew := rawSecret(t), "bc-client-secret-"+randomHex(t, 12), rawSecret(t), rawSecret(t), rawSecret(t)
	paddleRcv := newSignReceiver(t, false, func(body []byte, h http.Header) error {
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(string(body)))
		req.Header = h.Clone()
		ok, err := paddle.NewWebhookVerifier(paddleSecret, paddle.VerifierWithTimestampTolerance(time.Minute)).Verify(req)
		if err != nil || !ok {
			return fmt.Errorf("paddle-go-sdk refused: ok=%v err=%v", ok, err)
		}
		return nil
	})
	razorSecret := rawSecret(t)
	razorRcv := newSignReceiver(t, false, func(body []byte, h http.Header) error {
		if !razorpayutils.VerifyWebhookSignature(string(body), h.Get("X-Razorpay-Signature"), razorSecret) {
			return fmt.Errorf("razorpay-go refused")
		}
		return nil
	})
	bcRcv := newSignReceiver(t, false, func(body []byte, h http.Header) error {
		wh, err := standardwebhooks.NewWebhookRaw([]byte(bcSecret))
		if err != nil {
			return err
		}
		return wh.Verify(body, h)
	})

	site := fmt.Sprintf(`
	handle /paddle {
		webhook_verify paddle %q
		import proxy
	}
	handle /paddle-published {
		# Paddle's published vector is from 2024: only the signature is judged.
		webhook_verify paddle %q {
			tolerance 0
		}
		import proxy
	}
	handle /razorpay {
		webhook_verify razorpay %q
		import proxy
	}
	handle /coinbase {
		webhook_verify coinbase %q
		import proxy
	}
	# Square signed https://webhook.site/<path>: the gateway rebuilds it
	# from public_url and the path the request arrived with.
	handle /679a4f3a-dcfa-49ee-bac5-9d0edad886b9 {
		webhook_verify square %q {
			public_url https://webhook.site
		}
		import proxy
	}
	# Behind a rewrite, the URL signed is still the one called.
	handle /webhooks {
		rewrite * /internal/square
		webhook_verify square %q {
			public_url https://webhook.site
		}
		import proxy
	}
	handle /plaid {
		webhook_verify plaid {
			public_key {file.%s}
		}
		import proxy
	}
	handle /plaid-2020 {
		webhook_verify plaid {
			public_key {file.%s}
			tolerance 0
		}
		import proxy
	}
	handle /bigcommerce {
		webhook_verify bigcommerce %q
		import proxy
	}
	handle /woocommerce {
		webhook_verify woocommerce %q
		import proxy
	}
	handle /docusign {
		webhook_verify docusign {
			secret %q
		}
		import proxy
	}
%s%s%s`,
		paddleSecret, paddlePub.Secret, razorPub.Secret, coinbasePub.Secret, squarePub.Secret, squareUnescaped.Secret,
		jwk, jwk, bcSecret, wooSecret, dsNew,
		signRoute(t, "/out/paddle", "paddle", paddleSecret, "", paddleRcv, ""),
		signRoute(t, "/out/razorpay", "razorpay", razorSecret, "", razorRcv, ""),
		signRoute(t, "/out/bigcommerce", "bigcommerce", bcSecret, "", bcRcv, ""),
	)
	loadConfig(t, proxySnippet(up)+fmt.Sprintf("\nhttp://localhost:%d {\n%s\n%s}\n", httpPort, site, errorsBlock))

	// passes sends c's request to path and wants it through, body intact.
	passes := func(t *testing.T, path string, body []byte, h http.Header) received {
		t.Helper()
		up.reset()
		a := send(t, delivery{Path: path, Body: body, Header: h})
		wantStatus(t, a, http.StatusOK)
		got := up.only(t)
		wantBodyThrough(t, got, body)
		return got
	}
	refused := func(t *testing.T, path string, body []byte, h http.Header) {
		t.Helper()
		before := up.count()
		a := send(t, delivery{Path: path, Body: body, Header: h})
		wantRejected(t, a, http.StatusUnauthorized, up, before)
	}

	t.Run("published vectors as sent", func(t *testing.T) {
		passes(t, "/paddle-published", []byte(paddlePub.Body), paddlePub.header())
		refused(t, "/paddle", []byte(paddlePub.Body), paddlePub.header()) // 2024: stale under Paddle's 5 s
		passes(t, "/razorpay", []byte(razorPub.Body), razorPub.header())
		refused(t, "/razorpay", []byte(strings.Replace(razorPub.Body, "12300", "12301", 1)), razorPub.header())
		passes(t, "/coinbase", []byte(coinbasePub.Body), coinbasePub.header())
		passes(t, "/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", []byte(squarePub.Body), squarePub.header())
		got := passes(t, "/webhooks", []byte(squareUnescaped.Body), squareUnescaped.header())
		if got.Path != "/internal/square" {
			t.Errorf("upstream got %s, want the rewritten /internal/square", got.Path)
		}
		// The same request arriving at another path is another URL.
		refused(t, "/679a4f3a-dcfa-49ee-bac5-9d0edad886b9", []byte(squareUnescaped.Body), squareUnescaped.header())
	})

	t.Run("a real Plaid webhook", func(t *testing.T) {
		passes(t, "/plaid-2020", []byte(plaidReal.Body), plaidReal.header())
		refused(t, "/plaid", []byte(plaidReal.Body), plaidReal.header()) // iat 2020: more than 5 minutes old
		compact := strings.NewReplacer("\n", "", "  ", "").Replace(plaidReal.Body)
		refused(t, "/plaid-2020", []byte(compact), plaidReal.header())
	})

	t.Run("BigCommerce, signed by the Standard Webhooks library with the client secret", func(t *testing.T) {
		body := []byte(`{"scope":"store/order/created","store_id":"1025646","data":{"type":"order","id":250},"hash":"dd70c0976e06b67aaf671e73f49dcb79230ebf9d","created_at":1712916000,"producer":"stores/abcde"}`)
		wh, err := standardwebhooks.NewWebhookRaw([]byte(bcSecret))
		if err != nil {
			t.Fatal(err)
		}
		id := "msg_" + randomHex(t, 8)
		sig, err := wh.Sign(id, time.Now(), body)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{"Webhook-Id": {id}, "Webhook-Timestamp": {fmt.Sprint(time.Now().Unix())}, "Webhook-Signature": {sig}}
		got := passes(t, "/bigcommerce", body, h)
		if got.Header.Get("X-Webhook-Id") != id {
			t.Errorf("{http.webhook.id} = %q, want %q", got.Header.Get("X-Webhook-Id"), id)
		}
		other, _ := standardwebhooks.NewWebhookRaw([]byte("another client secret"))
		sig2, _ := other.Sign(id, time.Now(), body)
		h.Set("Webhook-Signature", sig2)
		refused(t, "/bigcommerce", body, h)
	})

	t.Run("webhook_sign checked by the official libraries", func(t *testing.T) {
		for _, tc := range []struct {
			path string
			rcv  *signReceiver
		}{{"/out/paddle", paddleRcv}, {"/out/razorpay", razorRcv}, {"/out/bigcommerce", bcRcv}} {
			tc.rcv.reset()
			body := randomBody(t, 2048)
			a := send(t, delivery{Path: tc.path, Body: body})
			signWantAccepted(t, a, tc.rcv.only(t), body)
		}
	})

	t.Run("WooCommerce's creation ping", func(t *testing.T) {
		ua := "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"
		up.reset()
		a := send(t, delivery{Path: "/woocommerce", Body: []byte("webhook_id=42"), Header: http.Header{"User-Agent": {ua}}})
		if a.Status != http.StatusOK {
			t.Fatalf("ping answered %d %q, want 200 (WooCommerce accepts 200 only)", a.Status, a.Body)
		}
		if up.count() != 0 {
			t.Errorf("the ping reached the app")
		}
		// A delivery that lost its signature is no ping.
		refused(t, "/woocommerce", []byte(`{"id":1}`), http.Header{"User-Agent": {ua}, "X-WC-Webhook-Topic": {"order.created"}})
		// Signed deliveries pass.
		body := []byte(`{"id":4750,"status":"processing"}`)
		h := presetSigner(t, "woocommerce")(wooSecret, body, "", time.Now())
		h.Set("User-Agent", ua)
		h.Set("X-WC-Webhook-Delivery-ID", randomHex(t, 16))
		passes(t, "/woocommerce", body, h)
	})

	t.Run("DocuSign, two HMAC keys, the configured one second", func(t *testing.T) {
		body := []byte(`{"event":"envelope-completed","data":{"envelopeId":"7a3c5e1f"}}`)
		sign := presetSigner(t, "docusign")
		h := sign(dsOld, body, "", time.Now())
		h.Set("X-DocuSign-Signature-2", sign(dsNew, body, "", time.Now()).Get("X-DocuSign-Signature-1"))
		passes(t, "/docusign", body, h)
		h.Del("X-DocuSign-Signature-2")
		refused(t, "/docusign", body, h)
	})
}
