// Generates the payments-family vectors (hookguard issue 10) and checks every
// case against the sender's official library where one exists.
//
//   npm install && node gen.js [outdir]   (default: preset/testdata/vectors when run from preset/testdata/gen/payments)
//
// Libraries (exact versions in package.json):
//   @paddle/paddle-node-sdk  Webhooks.isSignatureValid (via WebhooksValidator)
//   square                   WebhooksHelper.verifySignature
//   razorpay                 Razorpay.validateWebhookSignature
//   coinbase-commerce-node   Webhook.verifySigHeader
//   standardwebhooks         Webhook.sign / Webhook.verify (BigCommerce's docs prescribe it)
// Senders without a verifying library (Lemon Squeezy, WooCommerce, DocuSign,
// Plaid) are computed from the documented algorithm with node's crypto; the
// notes of each file say which document.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const outdir = process.argv[2] || path.join(__dirname, '..', '..', 'vectors'); // preset/testdata/vectors
fs.mkdirSync(outdir, { recursive: true });

let failures = 0;
function check(what, got, want) {
  if (got !== want) {
    failures++;
    console.error(`FAIL ${what}: library said ${got}, case says ${want}`);
  }
}

// withNow runs fn with Date pinned to the given Unix seconds (the Paddle SDK
// reads the clock itself).
async function withNow(unix, fn) {
  const RealDate = Date;
  class FakeDate extends RealDate {
    constructor(...a) { if (a.length === 0) super(unix * 1000); else super(...a); }
    static now() { return unix * 1000; }
  }
  global.Date = FakeDate;
  try { return await fn(); } finally { global.Date = RealDate; }
}

function write(preset, obj) {
  const file = path.join(outdir, `${preset}.json`);
  fs.writeFileSync(file, JSON.stringify(obj, null, 2) + '\n');
  console.log(`wrote ${file} (${obj.cases.length} cases)`);
}

const hmac = (alg, key, data, enc) => crypto.createHmac(alg, key).update(data).digest(enc);

// ---------------------------------------------------------------- paddle
async function paddle() {
  const { Paddle } = require('@paddle/paddle-node-sdk');
  const webhooks = new Paddle('pdl_sdbx_apikey_unused').webhooks;
  // Published vector: github.com/PaddleHQ/paddle-go-sdk webhook_verifier_test.go (also example_webhook_verifier_test.go).
  const pubSecret = 'pdl_ntfset_01hsdn8d43dt7mezr1ef2jtbaw_hKkRiCGyyRhbFwIUuqiTBgI7gnWoV0Gr';
  const pubBody = '{"data":{"id":"pri_01hsdn96k2hxjzsq5yerecdj9j","name":null,"status":"active","quantity":{"maximum":999999,"minimum":1},"tax_mode":"account_setting","product_id":"pro_01hsdn8qp7yydry3x1yeg6a9rv","unit_price":{"amount":"1000","currency_code":"USD"},"custom_data":null,"description":"testing","import_meta":null,"trial_period":null,"billing_cycle":{"interval":"month","frequency":1},"unit_price_overrides":[]},"event_id":"evt_01hsdn97563968dy0szkmgjwh3","event_type":"price.created","occurred_at":"2024-03-20T10:07:35.590857Z","notification_id":"ntf_01hsdn977e920kbgzt6r6c9rqc"}';
  const pubSig = 'ts=1710929255;h1=6c05ef8fa83c44d751be6d259ec955ce5638e2c54095bf128e408e2fce1589c8';
  const pubTs = 1710929255;

  const secret = 'pdl_ntfset_01hzzzzzzzzzzzzzzzzzzzzzzz_hookguardTestSecretKey0123456';
  const body = '{"event_id":"evt_01hv8x2g7r1yq3k6f9d0m4n5p2","event_type":"transaction.completed","occurred_at":"2024-04-12T10:00:00.000000Z","notification_id":"ntf_01hv8x2gaf0y3w1z5t7r9q2n4m","data":{"id":"txn_01hv8wz3b5k7m9p1r3t5v7x9z1","status":"completed","currency_code":"EUR"}}';
  const ts = 1712916000;
  const h1 = (k, t, b) => hmac('sha256', k, `${t}:${b}`, 'hex');
  const old = 'pdl_ntfset_01hzzzzzzzzzzzzzzzzzzzzzzz_previousSecretKeyRotatedAway';

  const cases = [
    { name: 'published vector (paddle-go-sdk webhook_verifier_test.go)', secret: pubSecret, body: pubBody,
      headers: { 'Paddle-Signature': pubSig, 'Content-Type': 'application/json' }, now: pubTs, valid: true, lib: true },
    { name: 'published vector, body tampered ({} as in the SDK test)', secret: pubSecret, body: '{}',
      headers: { 'Paddle-Signature': pubSig, 'Content-Type': 'application/json' }, now: pubTs, valid: false, lib: true },
    { name: 'published vector, wrong secret (abc as in the SDK test)', secret: 'abc', body: pubBody,
      headers: { 'Paddle-Signature': pubSig, 'Content-Type': 'application/json' }, now: pubTs, valid: false, lib: true },
    { name: 'signed transaction.completed, 4 s after ts', secret, body,
      headers: { 'Paddle-Signature': `ts=${ts};h1=${h1(secret, ts, body)}`, 'Content-Type': 'application/json' }, now: ts + 4, valid: true, lib: true },
    { name: 'stale: 6 s after ts (Paddle SDKs allow 5 s)', secret, body,
      headers: { 'Paddle-Signature': `ts=${ts};h1=${h1(secret, ts, body)}`, 'Content-Type': 'application/json' }, now: ts + 6, valid: false, lib: true },
    { name: 'rotation: two h1 values, the second made with this secret ("Signatures contain at least one h1")', secret, body,
      headers: { 'Paddle-Signature': `ts=${ts};h1=${h1(old, ts, body)};h1=${h1(secret, ts, body)}`, 'Content-Type': 'application/json' }, now: ts, valid: true, lib: 'node-last-h1', no_sign: 'the header carries a second h1 made with a secret this case does not hold' },
    { name: 'rotation: two h1 values, the first made with this secret', secret, body,
      headers: { 'Paddle-Signature': `ts=${ts};h1=${h1(secret, ts, body)};h1=${h1(old, ts, body)}`, 'Content-Type': 'application/json' }, now: ts, valid: true, lib: false, no_sign: 'the header carries a second h1 made with a secret this case does not hold' },
    { name: 'timestamp changed after signing', secret, body,
      headers: { 'Paddle-Signature': `ts=${ts + 1};h1=${h1(secret, ts, body)}`, 'Content-Type': 'application/json' }, now: ts + 1, valid: false, lib: true },
  ];
  for (const c of cases) {
    if (c.lib === false) continue;
    const ok = await withNow(c.now, () => webhooks.isSignatureValid(c.body, c.secret, c.headers['Paddle-Signature']).catch(() => false));
    check(`paddle: ${c.name}`, ok, c.valid);
  }
  write('paddle', {
    preset: 'paddle',
    docs: 'https://developer.paddle.com/webhooks/signature-verification',
    proof: 'Go github.com/PaddleHQ/paddle-go-sdk/v4@v4.1.0 NewWebhookVerifier(secret).Verify(req) accepts each valid single-h1 case and rejects each invalid one (its published test vector is case 1); npm @paddle/paddle-node-sdk@3.10.0 paddle.webhooks.isSignatureValid (WebhooksValidator) agrees on the same cases with the clock pinned to "now"',
    notes: 'HMAC-SHA256 over "<ts>:<raw body>", hex, in Paddle-Signature "ts=<unix s>;h1=<hex>". Key = the whole endpoint secret key (pdl_ntfset_...) as UTF-8, not decoded. Docs: "Signatures contain at least one h1" -> every h1 is tried (the rotation cases); the Go SDK regexp accepts exactly one h1 and the Node SDK keeps only the last one, so the two rotation cases rest on the docs, not on a library. Tolerance: the Node SDK rejects ts older than 5 s (MAX_VALID_TIME_DIFFERENCE = 5), the Go SDK checks nothing unless VerifierWithTimestampTolerance is given; these vectors assume 5 s.',
    cases: cases.map(({ lib, ...c }) => ({ method: 'POST', url: 'https://example.com/webhooks/paddle', ...c, handshake: null })),
  });
}

// ---------------------------------------------------------------- square
async function square() {
  const { WebhooksHelper } = require('square');
  const pubBody = '{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z","data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}';
  const pubSig = 'GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=';
  const pubKey = 'Ibxx_5AKakO-3qeNVR61Dw';
  const pubURL = 'https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9';
  const key = 'hookguard-square-signature-key_0123';
  const url = 'https://shop.example.com:8443/hooks/square?tenant=42&env=prod';
  const body = '{"merchant_id":"6SSW7HV8K2ST5","type":"payment.updated","event_id":"13b867cf-db3d-4b1c-90b6-2f32a9d78124","created_at":"2024-04-12T10:00:00Z","data":{"type":"payment","id":"KkAkhdMsgzn59SM8A89WgKwekxLZY","object":{"payment":{"amount_money":{"amount":100,"currency":"USD"},"note":"caf\u00e9 & <b>"}}}}';
  const sig = (k, u, b) => hmac('sha256', k, u + b, 'base64');
  const h = (s) => ({ 'X-Square-HmacSha256-Signature': s, 'Content-Type': 'application/json' });
  const cases = [
    { name: 'published vector (square-go-sdk and square-nodejs-sdk webhook tests)', secret: pubKey, url: pubURL, body: pubBody, headers: h(pubSig), valid: true },
    { name: 'published vector: unescaped chars', secret: 'signature-key', url: 'https://webhook.site/webhooks', body: '{"data":{"type":"webhooks","id":"fake_id"}}', headers: h('W3FlCNk5IA3ZQ2LHTWoajvzfaDu/OwY2tNHIHC3IUOA='), valid: true },
    { name: 'published vector: escaped chars', secret: 'signature-key', url: 'https://webhook.site/webhooks', body: '{"data":{"type":"webhooks","id":">id<"}}', headers: h('Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U='), valid: true },
    { name: 'published vector, notification URL mismatch', secret: pubKey, url: 'https://webhook.site/79a4f3a-dcfa-49ee-bac5-9d0edad886b9', body: pubBody, headers: h(pubSig), valid: false },
    { name: 'published vector, wrong signature key', secret: 'MCmhFRxGX82xMwg5FsaoQA', url: pubURL, body: pubBody, headers: h(pubSig), valid: false },
    { name: 'published vector, body changed (created_at)', secret: pubKey, url: pubURL, body: pubBody.replace('2022-07-13', '2022-06-13'), headers: h(pubSig), valid: false },
    { name: 'URL with port and query string, UTF-8 body', secret: key, url, body, headers: h(sig(key, url, body)), valid: true },
    { name: 'same signature, URL called without the query string', secret: key, url: 'https://shop.example.com:8443/hooks/square', body, headers: h(sig(key, url, body)), valid: false },
    { name: 'same signature, http instead of https', secret: key, url: url.replace('https:', 'http:'), body, headers: h(sig(key, url, body)), valid: false },
  ];
  for (const c of cases) {
    const ok = await WebhooksHelper.verifySignature({ requestBody: c.body, signatureHeader: c.headers['X-Square-HmacSha256-Signature'], signatureKey: c.secret, notificationUrl: c.url });
    check(`square: ${c.name}`, ok, c.valid);
  }
  write('square', {
    preset: 'square',
    docs: 'https://developer.squareup.com/docs/webhooks/step3validate',
    proof: 'npm square@46.0.0 WebhooksHelper.verifySignature({requestBody, signatureHeader, signatureKey, notificationUrl}) accepts each valid case and rejects each invalid one; cases 1-6 are the published vectors of square/square-go-sdk webhooks/client/verify_signature_test.go (Client.VerifySignature) and square/square-nodejs-sdk tests/integration/webhooks.test.ts (the Go SDK is not served by the module proxy here)',
    notes: 'HMAC-SHA256 over notification URL + raw body (no separator), base64, in x-square-hmacsha256-signature. Key = the subscription signature key as UTF-8. The URL is the notification URL exactly as subscribed (scheme, host, port, path, query) - for the gateway: the URL as called, or public_url + original URI. No timestamp, no tolerance. The legacy x-square-signature (HMAC-SHA1, same content) is not accepted by this preset.',
    cases: cases.map((c) => ({ method: 'POST', ...c, now: 1712916000, handshake: null })),
  });
}

// ---------------------------------------------------------------- razorpay
async function razorpay() {
  const Razorpay = require('razorpay');
  // Published vectors: github.com/razorpay/razorpay-go resources/verify_payment_test.go and documents/paymentVerification.md.
  const testBody = '{"entity":"event","account_id":"acc_HVFD0PFnHPAzKj","event":"payment.authorized","contains":["payment"],"payload":{"payment":{"entity":{"id":"pay_JUEM4c0pSLpFEW","entity":"payment","amount":12300,"currency":"INR","status":"authorized","order_id":"order_JUELuT6cFaHkvd","invoice_id":null,"international":false,"method":"netbanking","amount_refunded":0,"refund_status":null,"captured":false,"description":"#JUELZ1z1EC0pwi","card_id":null,"bank":"SBIN","wallet":null,"vpa":null,"email":"prathmesh.bijjargi@razorpay.com","contact":"+917411714931","notes":[],"fee":null,"tax":null,"error_code":null,"error_description":null,"error_source":null,"error_step":null,"error_reason":null,"acquirer_data":{"bank_transaction_id":"6416615"},"created_at":1652339804}}},"created_at":1652339806}';
  const docBody = testBody.replace('prathmesh.bijjargi@razorpay.com', 'gaurav.kumar@example.com').replace('+917411714931', '+919999999999');
  const h = (s, id) => ({ 'X-Razorpay-Signature': s, 'X-Razorpay-Event-Id': id, 'Content-Type': 'application/json' });
  const cases = [
    { name: 'published vector (razorpay-go resources/verify_payment_test.go)', secret: '123456', body: testBody, headers: h('ea962f3a2a8090aa14ef10fc178306edcb46ee7ccadae8afe2275cda26f3d2a6', 'JUEM4gBp2IakzB'), valid: true },
    { name: 'published vector (razorpay-go documents/paymentVerification.md)', secret: '123456', body: docBody, headers: h('56df260ab4647b07b729b0b48d2a95b71de42f109884949e5ec387a2bb8b6919', 'JUEM4gBp2IakzC'), valid: true },
    { name: 'published vector, body tampered (amount)', secret: '123456', body: testBody.replace('12300', '12301'), headers: h('ea962f3a2a8090aa14ef10fc178306edcb46ee7ccadae8afe2275cda26f3d2a6', 'JUEM4gBp2IakzB'), valid: false },
    { name: 'published vector, wrong secret', secret: '1234567', body: testBody, headers: h('ea962f3a2a8090aa14ef10fc178306edcb46ee7ccadae8afe2275cda26f3d2a6', 'JUEM4gBp2IakzB'), valid: false },
  ];
  const secret = 'hookguard_rzp_webhook_secret';
  const body = '{"entity":"event","account_id":"acc_BFQ7uQEaa7j2z7","event":"refund.processed","contains":["refund","payment"],"payload":{"refund":{"entity":{"id":"rfnd_FP8QHiV938haTz","amount":500100,"currency":"INR"}}},"created_at":1712916000}';
  cases.push({ name: 'signed refund.processed', secret, body, headers: h(hmac('sha256', secret, body, 'hex'), 'KTf3Wvq9PJxN1a'), valid: true });
  for (const c of cases) {
    const ok = Razorpay.validateWebhookSignature(c.body, c.headers['X-Razorpay-Signature'], c.secret);
    check(`razorpay: ${c.name}`, ok, c.valid);
  }
  write('razorpay', {
    preset: 'razorpay',
    docs: 'https://razorpay.com/docs/webhooks/validate-test/',
    proof: 'Go github.com/razorpay/razorpay-go@v1.3.3 utils.VerifyWebhookSignature(body, signature, secret) and npm razorpay@2.9.8 Razorpay.validateWebhookSignature(body, signature, secret) accept each valid case and reject each invalid one; cases 1-2 are razorpay-go\'s published vectors',
    notes: 'HMAC-SHA256 over the raw body, lowercase hex, in X-Razorpay-Signature; key = the webhook secret entered in the Dashboard, as UTF-8. No timestamp. X-Razorpay-Event-Id is the delivery id (same on retries, docs: "Idempotency"); the ids in cases 1-2 are invented, the libraries do not read them. Both official libraries compare the lowercase hex string; a verifier that decodes hex (as hookguard does) also takes uppercase, which Razorpay never sends - the same bytes, no case pins it.',
    cases: cases.map((c) => ({ method: 'POST', url: 'https://example.com/webhooks/razorpay', ...c, now: 1712916000, handshake: null })),
  });
}

// ---------------------------------------------------------------- coinbase
async function coinbase() {
  const { Webhook } = require('coinbase-commerce-node');
  // Published vector: github.com/coinbase/coinbase-commerce-node test/testWebhook.spec.js
  const secret = '30291a20-0bd1-4267-9b0f-e6e7b123c0bf';
  const body = '{"id":1,"scheduled_for":"2017-01-31T20:50:02Z","attempt_number":1,"event":{"id":"24934862-d980-46cb-9402-43c81b0cdba6","type":"charge:created","api_version":"2018-03-22","created_at":"2017-01-31T20:49:02Z","data":{"code":"66BEOV2A","name":"The Sovereign Individual","description":"Mastering the Transition to the Information Age","hosted_url":"https://commerce.coinbase.com/charges/66BEOV2A","created_at":"2017-01-31T20:49:02Z","expires_at":"2017-01-31T21:04:02Z","timeline":[{"time":"2017-01-31T20:49:02Z","status":"NEW"}],"metadata":{},"pricing_type":"no_price","payments":[],"addresses":{"bitcoin":"0000000000000000000000000000000000","ethereum":"0x0000000000000000000000000000000000000000","litecoin":"3000000000000000000000000000000000","bitcoincash":"bitcoincash:000000000000000000000000000000000000000000"}}}}';
  const sig = '8be7742c7d372f08a6a3224edadf18a22b65fa9e28f3f2de97376cdaa092590d';
  const h = (s) => ({ 'X-CC-Webhook-Signature': s, 'Content-Type': 'application/json' });
  const s2 = 'b3c9f1e0-5d2a-4c8e-9a7b-1f6e2d3c4b5a';
  const b2 = '{"attempt_number":1,"event":{"api_version":"2018-03-22","created_at":"2024-04-12T10:00:00Z","data":{"code":"HGKQ3XPM","name":"T-shirt","pricing_type":"fixed_price"},"id":"5f1a2b3c-4d5e-6f70-8192-a3b4c5d6e7f8","resource":"event","type":"charge:confirmed"},"id":"8a7b6c5d-4e3f-2a1b-0c9d-8e7f6a5b4c3d","scheduled_for":"2024-04-12T10:00:00Z"}';
  const cases = [
    { name: 'published vector (coinbase-commerce-node test/testWebhook.spec.js)', secret, body, headers: h(sig), valid: true },
    { name: 'published vector, invalid secret (from the same test)', secret: '30291a20-0bd1-4267-9b0f-e6e7b123c0bg', body, headers: h(sig), valid: false },
    { name: 'published vector, body tampered', secret, body: body.replace('charge:created', 'charge:confirmed'), headers: h(sig), valid: false },
    { name: 'signed charge:confirmed', secret: s2, body: b2, headers: h(Webhook.computeSignature(b2, s2)), valid: true },
  ];
  for (const c of cases) {
    let ok;
    try { ok = Webhook.verifySigHeader(c.body, c.headers['X-CC-Webhook-Signature'], c.secret); } catch (e) { ok = false; }
    check(`coinbase: ${c.name}`, ok, c.valid);
  }
  write('coinbase', {
    preset: 'coinbase',
    docs: 'https://docs.cdp.coinbase.com/commerce/api-arcitecture/webhooks-security',
    proof: 'npm coinbase-commerce-node@1.0.4 Webhook.verifySigHeader(payload, sigHeader, secret) accepts each valid case and rejects each invalid one (case 4 signed with Webhook.computeSignature); cases 1-2 are the library\'s own published test vector. No official Go library.',
    notes: 'Coinbase Commerce: HMAC-SHA256 over the raw body, hex, in X-CC-Webhook-Signature; key = the shared webhook secret (Settings > Notifications) as UTF-8. No timestamp, no delivery-id header (the body has "id" and "attempt_number"). Not the newer CDP webhooks (X-Hook0-Signature), a different scheme.',
    cases: cases.map((c) => ({ method: 'POST', url: 'https://example.com/webhooks/coinbase', ...c, now: 1712916000, handshake: null })),
  });
}

// ---------------------------------------------------------------- lemonsqueezy
async function lemonsqueezy() {
  const secret = 'hg-lemon-Secret_2024';
  const body = '{"meta":{"event_name":"order_created","custom_data":{"customer_id":25},"test_mode":true,"webhook_id":"b7e2d6c1-0a9f-4c3d-8e5b-7f1a2c3d4e5f"},"data":{"type":"orders","id":"1","attributes":{"store_id":1,"customer_id":1,"identifier":"104e18a2-d755-4d4b-80c4-a6c1dcbe1c10","order_number":1,"user_name":"Darlene Daugherty","user_email":"gernser@yahoo.com","currency":"USD","total":999,"status":"paid","created_at":"2024-04-12T10:00:00.000000Z"}}}';
  const sig = hmac('sha256', secret, body, 'hex');
  const h = (s, ev) => ({ 'X-Signature': s, 'X-Event-Name': ev, 'Content-Type': 'application/json' });
  const cases = [
    { name: 'signed order_created', secret, body, headers: h(sig, 'order_created'), valid: true },
    { name: 'body tampered', secret, body: body.replace('"total":999', '"total":1'), headers: h(sig, 'order_created'), valid: false },
    { name: 'wrong secret', secret: 'hg-lemon-Secret_2025', body, headers: h(sig, 'order_created'), valid: false },
    { name: 'event name header changed (not signed, still valid)', secret, body, headers: h(sig, 'subscription_created'), valid: true },
  ];
  write('lemonsqueezy', {
    preset: 'lemonsqueezy',
    docs: 'https://docs.lemonsqueezy.com/help/webhooks/signing-requests',
    proof: 'documented algorithm (docs: "Lemon Squeezy generates the hash using an HMAC hex digest" with the signing secret over the payload; the docs\' Node example is crypto.createHmac("sha256", secret).update(rawBody).digest("hex") compared with X-Signature), computed with node crypto; the official SDK npm @lemonsqueezy/lemonsqueezy.js@4.0.0 has no webhook verification and there is no official Go SDK',
    notes: 'HMAC-SHA256 over the raw body, hex, in X-Signature; key = the signing secret the user typed when creating the webhook (6-40 chars), as UTF-8. No timestamp, no delivery id header; X-Event-Name carries the event and is not signed.',
    cases: cases.map((c) => ({ method: 'POST', url: 'https://example.com/webhooks/lemonsqueezy', ...c, now: 1712916000, handshake: null })),
  });
}

// ---------------------------------------------------------------- woocommerce
async function woocommerce() {
  const secret = 'hg1_Wc$ecret&<key>"quoted"\'x';
  const body = '{"id":4750,"parent_id":0,"status":"processing","currency":"EUR","date_created":"2024-04-12T10:00:00","total":"19.90","billing":{"first_name":"Ren\\u00e9e","email":"renee@example.com"},"line_items":[{"id":1,"name":"Caf\\u00e9 \\/ tea","quantity":1}]}'; // as wp_json_encode writes it: \uXXXX and \/
  const sig = hmac('sha256', secret, body, 'base64');
  const h = (s) => ({
    'X-WC-Webhook-Source': 'https://shop.example.com/',
    'X-WC-Webhook-Topic': 'order.created',
    'X-WC-Webhook-Resource': 'order',
    'X-WC-Webhook-Event': 'created',
    'X-WC-Webhook-Signature': s,
    'X-WC-Webhook-ID': '3',
    'X-WC-Webhook-Delivery-ID': '36e520ebabc2fa725092ff4a47acedf2',
    'Content-Type': 'application/json',
    'User-Agent': 'WooCommerce/8.7.0 Hookshot (WordPress/6.5)',
  });
  const ping = { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '12', 'User-Agent': 'WooCommerce/8.7.0 Hookshot (WordPress/6.5)' };
  const unsignedDelivery = { ...h('x'), 'Content-Length': String(Buffer.byteLength(body)) }; delete unsignedDelivery['X-WC-Webhook-Signature'];
  const cases = [
    { name: 'order.created, secret with the characters WordPress would entity-encode', secret, body, headers: h(sig), valid: true, handshake: null },
    { name: 'body tampered', secret, body: body.replace('19.90', '0.01'), headers: h(sig), valid: false, handshake: null },
    { name: 'wrong secret (HTML-entity form of the same secret)', secret: 'hg1_Wc$ecret&amp;&lt;key&gt;&quot;quoted&quot;&#039;x', body, headers: h(sig), valid: false, handshake: null },
    { name: 'creation ping (WC_Webhook::deliver_ping): unsigned form body webhook_id=N, expects 200', secret, body: 'webhook_id=3', headers: ping, valid: true,
      handshake: { status: 200, content_type: null, body: null, headers: {} } },
    { name: 'a delivery (X-WC-Webhook-* headers) without its signature is no ping: refused', secret, body, headers: unsignedDelivery, valid: false, handshake: null },
  ];
  write('woocommerce', {
    preset: 'woocommerce',
    docs: 'https://woocommerce.github.io/woocommerce-rest-api-docs/#webhooks',
    proof: 'documented algorithm, as the sender\'s own source does it: woocommerce/woocommerce plugins/woocommerce/includes/class-wc-webhook.php WC_Webhook::generate_signature() = base64_encode(hash_hmac("sha256", $body, wp_specialchars_decode($secret, ENT_QUOTES), true)) over the body exactly as sent (trim(wp_json_encode($payload))), computed with node crypto; the ping is WC_Webhook::deliver_ping() in the same file. No official library verifies (npm @woocommerce/woocommerce-rest-api has no webhook code).',
    notes: 'Base64 HMAC-SHA256 of the raw body in X-WC-Webhook-Signature. Key = the secret as the admin screen shows it (WooCommerce decodes HTML entities before signing; the user copies the decoded form, so the key is that text\'s UTF-8 bytes - case 3 shows the entity form is wrong). No timestamp; X-WC-Webhook-Delivery-ID is the delivery id. The filter woocommerce_webhook_hash_algorithm can change sha256 on a given site; the preset assumes the default. Handshake: when a webhook is first saved active, WooCommerce POSTs "webhook_id=<id>" with no X-WC-Webhook-* headers and no signature, and treats anything but HTTP 200 (exactly 200) as an error ("Delivery URL returned response code"); the webhook stays pending and pings again on the next save. The gateway answers that unsigned request itself with 200 (body irrelevant) and does not forward it; content_type/body null = anything. hookguard answers unsigned handshakes before reading a body, so the ping is told by its headers: the "WooCommerce/<v> Hookshot (WordPress/<v>)" user agent, none of the X-WC-Webhook-* headers, a Content-Length of at most 31 (webhook_id= and an id); a delivery that lost its signature is refused (case 5). Content-Type of the ping is not set by WooCommerce (WordPress/curl make it application/x-www-form-urlencoded) and is not relied on.',
    cases: cases.map((c) => ({ method: 'POST', url: 'https://example.com/webhooks/woocommerce', ...c, now: 1712916000 })),
  });
}

// ---------------------------------------------------------------- bigcommerce
async function bigcommerce() {
  const { Webhook } = require('standardwebhooks');
  const clientSecret = 'a1b2c3d4e5f6hookguardbigcommerceclientsecret9';
  const wh = new Webhook(Buffer.from(clientSecret).toString('base64')); // exactly as BigCommerce's docs do
  const body = '{"created_at":1712916000,"store_id":"1001197568","producer":"stores/abcde","scope":"store/order/statusUpdated","hash":"3f9ea420af83450d7ef9f78b08c8af25b2213637","data":{"type":"order","id":173331,"status":{"previous_status_id":0,"new_status_id":11}}}';
  const id = 'msg_2fQ8ZJ0xkV3bLh5PpW7nR9sT1uY';
  const ts = 1712916000;
  const sig = wh.sign(id, new Date(ts * 1000), body);
  const other = new Webhook(Buffer.from('some-other-client-secret').toString('base64')).sign(id, new Date(ts * 1000), body);
  const h = (s, t = ts) => ({ 'webhook-id': id, 'webhook-timestamp': String(t), 'webhook-signature': s, 'Content-Type': 'application/json' });
  const cases = [
    { name: 'store/order/statusUpdated signed with the app client secret', secret: clientSecret, body, headers: h(sig), now: ts + 10, valid: true },
    { name: 'two signatures, the second made with this client secret', secret: clientSecret, body, headers: h(`${other} ${sig}`), now: ts, valid: true, no_sign: 'the header carries a second signature made with a secret this case does not hold' },
    { name: 'body tampered', secret: clientSecret, body: body.replace('173331', '173332'), headers: h(sig), now: ts, valid: false },
    { name: 'wrong client secret', secret: 'some-other-client-secret', body, headers: h(sig), now: ts, valid: false },
    { name: 'stale: 301 s old (Standard Webhooks libraries allow 300 s)', secret: clientSecret, body, headers: h(sig), now: ts + 301, valid: false },
    { name: 'signature keyed with the client secret base64-DECODED (a whsec reading) is refused', secret: clientSecret, body, headers: h('v1,' + hmac('sha256', Buffer.from(clientSecret, 'base64'), `${id}.${ts}.${body}`, 'base64')), now: ts, valid: false },
  ];
  for (const c of cases) {
    let ok;
    const v = new Webhook(Buffer.from(c.secret).toString('base64'));
    const hdr = {}; for (const [k, val] of Object.entries(c.headers)) hdr[k.toLowerCase()] = val;
    ok = await withNow(c.now, () => { try { v.verify(c.body, hdr); return true; } catch (e) { return false; } });
    check(`bigcommerce: ${c.name}`, ok, c.valid);
  }
  write('bigcommerce', {
    preset: 'bigcommerce',
    docs: 'https://developer.bigcommerce.com/docs/integrations/webhooks/https-webhook-overview#security',
    proof: 'npm standardwebhooks@1.1.1 Webhook(base64(client_secret)).sign/verify (the library BigCommerce\'s docs prescribe, used exactly as their Node sample does) signs case 1-2 and accepts/rejects every case with the clock pinned; Go github.com/standard-webhooks/standard-webhooks/libraries@v0.0.1 NewWebhook(base64(client_secret)).Verify agrees (gen-payments/go)',
    notes: 'BigCommerce signs HTTPS webhooks as Standard Webhooks: webhook-id, webhook-timestamp (Unix s), webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>" (space-separated list). The key is the app\'s OAuth CLIENT SECRET as raw UTF-8 bytes: the docs\' samples base64-encode the client secret only to hand it to the Standard Webhooks library, which decodes it again - so it is NOT a whsec_/base64 secret (last case). Tolerance: the libraries\' 5 minutes (docs: "A timestamp is used to protect against replay attacks"). Documented only on the HTTPS webhooks page (since 2024-07, bigcommerce/docs a6bf3c2d); the older general overview still describes only the optional custom "headers" object (e.g. basic auth) that BigCommerce sends back verbatim - that path is no signature and is served by the generic token/basic-auth schemes, not by this preset. Body: the "hash" field is a SHA-1 event identifier, not a signature.',
    cases: cases.map((c) => ({ method: 'POST', url: 'https://example.com/webhooks/bigcommerce', ...c, handshake: null })),
  });
}

// ---------------------------------------------------------------- docusign
async function docusign() {
  // computeHash exactly as DocuSign's official example
  // (github.com/docusign/code-examples-node lib/connect/examples/validateWebhookMessage.js).
  const computeHash = (args) => { const m = crypto.createHmac('sha256', args.secret); m.write(args.payload); m.end(); return m.read().toString('base64'); };
  const isHashValid = (args) => { const a = Buffer.from(args.verify, 'base64'); const b = Buffer.from(computeHash(args), 'base64'); return a.length === b.length && crypto.timingSafeEqual(a, b); };
  const secret = 'Fq0QeT2bqXh8n5mJ9vW3kL7pR1sY4uZ6cA8dE0gH2iK=';
  const oldSecret = 'Zc3pN6rT9wB2eH5kM8qS1vY4xA7dG0jL3nP6sU9yC2f=';
  const body = '{"event":"envelope-completed","apiVersion":"v2.1","uri":"/restapi/v2.1/accounts/8ba6bf8a-1b2c-4d3e-9f10-111213141516/envelopes/7a3c5e1f-2b4d-4c6e-8f10-121314151617","retryCount":0,"configurationId":10592380,"generatedDateTime":"2024-04-12T10:00:00.0000000Z","data":{"accountId":"8ba6bf8a-1b2c-4d3e-9f10-111213141516","userId":"d9e8f7a6-b5c4-4d3e-2f10-0a1b2c3d4e5f","envelopeId":"7a3c5e1f-2b4d-4c6e-8f10-121314151617"}}';
  const xml = '<?xml version="1.0" encoding="utf-8"?><DocuSignEnvelopeInformation xmlns="http://www.docusign.net/API/3.0"><EnvelopeStatus><EnvelopeID>7a3c5e1f-2b4d-4c6e-8f10-121314151617</EnvelopeID><Status>Completed</Status></EnvelopeStatus></DocuSignEnvelopeInformation>';
  const base = { 'X-Authorization-Digest': 'HMACSHA256', 'X-DocuSign-AccountId': '8ba6bf8a-1b2c-4d3e-9f10-111213141516' };
  const sig = computeHash({ secret, payload: body });
  const sigOld = computeHash({ secret: oldSecret, payload: body });
  const cases = [
    { name: 'JSON envelope-completed, one key', secret, body, headers: { ...base, 'X-DocuSign-Signature-1': sig, 'Content-Type': 'application/json' }, valid: true },
    { name: 'two active keys: -1 made with another key, -2 with this one', secret, body, headers: { ...base, 'X-DocuSign-Signature-1': sigOld, 'X-DocuSign-Signature-2': sig, 'Content-Type': 'application/json' }, valid: true, no_sign: 'X-DocuSign-Signature-1 was made with a key this case does not hold' },
    { name: 'XML (legacy SIM) message', secret, body: xml, headers: { ...base, 'X-DocuSign-Signature-1': computeHash({ secret, payload: xml }), 'Content-Type': 'text/xml; charset=utf-8' }, valid: true },
    { name: 'body tampered', secret, body: body.replace('envelope-completed', 'envelope-voided'), headers: { ...base, 'X-DocuSign-Signature-1': sig, 'Content-Type': 'application/json' }, valid: false },
    { name: 'wrong key', secret: oldSecret.replace('Zc3', 'Zc4'), body, headers: { ...base, 'X-DocuSign-Signature-1': sig, 'Content-Type': 'application/json' }, valid: false },
    { name: 'key base64-decoded is wrong: the key is used as the UTF-8 text it is', secret, body, headers: { ...base, 'X-DocuSign-Signature-1': computeHash({ secret: Buffer.from(secret, 'base64'), payload: body }), 'Content-Type': 'application/json' }, valid: false },
    { name: 'signature only in X-DocuSign-Signature-12', secret, body, headers: { ...base, 'X-DocuSign-Signature-12': sig, 'Content-Type': 'application/json' }, valid: true, no_sign: 'a signer holding one key numbers its header 1' },
  ];
  // the "base64-decoded" case: the header holds HMAC(decoded key); the preset,
  // keyed with the text, must refuse it.
  for (const c of cases) {
    const sigs = Object.entries(c.headers).filter(([k]) => /^X-DocuSign-Signature-\d+$/.test(k)).map(([, v]) => v);
    const ok = sigs.some((s) => isHashValid({ verify: s, secret: c.secret, payload: c.body }));
    check(`docusign: ${c.name}`, ok, c.valid);
  }
  write('docusign', {
    preset: 'docusign',
    docs: 'https://developers.docusign.com/platform/webhooks/connect/validate/',
    proof: 'the docs\' published example code, run here: computeHash/isHashValid of github.com/docusign/code-examples-node lib/connect/examples/validateWebhookMessage.js (HMAC-SHA256 with the key as a string, base64; the PHP and Python examples of the same page key with the UTF-8 text too) accepts each valid case and rejects each invalid one. DocuSign publishes no test vector and no verifying library (npm docusign-esign has no HMAC code).',
    notes: 'Connect HMAC: base64 HMAC-SHA256 of the raw body (JSON or legacy XML) in X-DocuSign-Signature-1, -2, ... one header per active HMAC key on the account (DocuSign allows up to 100 keys; order not significant) - the preset accepts a match in any X-DocuSign-Signature-<n>. X-Authorization-Digest: HMACSHA256 names the algorithm. Key = the Connect key exactly as shown once in Admin (it looks like base64 but is used as its UTF-8 text, not decoded). No timestamp and no delivery-id header (the body has generatedDateTime and retryCount).',
    cases: cases.map((c) => ({ method: 'POST', url: 'https://example.com/webhooks/docusign', ...c, now: 1712916000, handshake: null })),
  });
}

// ---------------------------------------------------------------- plaid
async function plaid() {
  const b64u = (b) => Buffer.from(b).toString('base64url');
  // (1) A real Plaid webhook, signed by Plaid's production key, published in
  // https://stackoverflow.com/questions/62117400/hashing-plaid-request-body-webhook
  // (JWT, the JWK returned by /webhook_verification_key/get, and the parsed
  // body); the raw body is the 2-space-indented JSON Plaid sends, which
  // reproduces request_body_sha256 exactly.
  const realJWT = 'eyJhbGciOiJFUzI1NiIsImtpZCI6IjZjNTUxNmUxLTkyZGMtNDc5ZS1hOGZmLTVhNTE5OTJlMDAwMSIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE1OTA4ODcwMDEsInJlcXVlc3RfYm9keV9zaGEyNTYiOiJiNjNhMDdiNTQ3YjAwZjk5MjU0N2Y2YmJjOGQ5YWNjNjFhOGNjZWUxMzhiYzgyZjQ0YTZiYWEwOTY4M2E1ZDBmIn0.OOKvIihgqCj7Qrb2bmz7T3t7uK-0JyjiEqL2s1kWeJBM4MMmjaHKK8GmU_z91QolBWMzvPgs718EElY-rE3cwQ';
  const realJWK = { alg: 'ES256', created_at: 1560466143, crv: 'P-256', expired_at: null, kid: '6c5516e1-92dc-479e-a8ff-5a51992e0001', kty: 'EC', use: 'sig', x: '35lvC8uz2QrWpQJ3TUH8t9o9DURMp7ydU518RKDl20k', y: 'I8BuXB2bvxelzJAd7OKhd-ZwjCst05Fx47Mb_0ugros' };
  const realBody = '{\n  "error": null,\n  "item_id": "yxQbxDjnD8hr69pKbQpbcKeVn3GL9QuyA7NV3",\n  "new_transactions": 390,\n  "webhook_code": "HISTORICAL_UPDATE",\n  "webhook_type": "TRANSACTIONS"\n}';
  const realIat = 1590887001;
  const realPEM = crypto.createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: realJWK.x, y: realJWK.y }, format: 'jwk' }).export({ type: 'spki', format: 'pem' });

  // (2) A fixed key pair so tests can sign. Deterministic: derived from a fixed scalar.
  const d = crypto.createHash('sha256').update('hookguard plaid test key').digest();
  const ecdh = crypto.createECDH('prime256v1'); ecdh.setPrivateKey(d);
  const pub = ecdh.getPublicKey();
  const kid = 'bfbd5111-8e33-4643-8ced-b2e642a72f3c';
  const jwkPriv = { kty: 'EC', crv: 'P-256', d: b64u(d), x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33, 65)) };
  const privKey = crypto.createPrivateKey({ key: jwkPriv, format: 'jwk' });
  const pubKey = crypto.createPublicKey(privKey);
  const jwkPub = { alg: 'ES256', created_at: 1560466150, crv: 'P-256', expired_at: null, kid, kty: 'EC', use: 'sig', x: jwkPriv.x, y: jwkPriv.y };
  const privPEM = privKey.export({ type: 'pkcs8', format: 'pem' });
  const pubPEM = pubKey.export({ type: 'spki', format: 'pem' });

  const sign = (header, claims, key = privKey) => {
    const h = b64u(JSON.stringify(header)); const p = b64u(JSON.stringify(claims));
    // ECDSA is randomized; use RFC 6979-free but fixed output by signing once and
    // keeping the result in the vector file (tests verify, they do not re-sign).
    const s = crypto.sign('sha256', Buffer.from(`${h}.${p}`), { key, dsaEncoding: 'ieee-p1363' });
    return `${h}.${p}.${b64u(s)}`;
  };
  const verify = (jwt, body, now, keys) => {
    const parts = jwt.split('.'); if (parts.length !== 3) return false;
    let hdr, cl; try { hdr = JSON.parse(Buffer.from(parts[0], 'base64url')); cl = JSON.parse(Buffer.from(parts[1], 'base64url')); } catch (e) { return false; }
    if (hdr.alg !== 'ES256') return false;
    const cands = keys.filter((k) => !k.kid || !hdr.kid || k.kid === hdr.kid);
    const sigOK = cands.some((k) => crypto.verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: k.key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parts[2], 'base64url')));
    if (!sigOK) return false;
    if (typeof cl.iat !== 'number' || now - cl.iat > 300 || cl.iat - now > 300) return false;
    const want = crypto.createHash('sha256').update(body).digest('hex');
    return typeof cl.request_body_sha256 === 'string' && cl.request_body_sha256.length === want.length && crypto.timingSafeEqual(Buffer.from(cl.request_body_sha256), Buffer.from(want));
  };

  const body = '{\n  "environment": "sandbox",\n  "error": null,\n  "item_id": "DWVAAPWq4RHGlEaNyGKRTAnPLaEmo8Cvq7na6",\n  "new_transactions": 19,\n  "webhook_code": "DEFAULT_UPDATE",\n  "webhook_type": "TRANSACTIONS"\n}';
  const iat = 1712916000;
  const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
  const good = sign({ alg: 'ES256', kid, typ: 'JWT' }, { iat, request_body_sha256: sha(body) });
  const other = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const badKey = sign({ alg: 'ES256', kid, typ: 'JWT' }, { iat, request_body_sha256: sha(body) }, other.privateKey);
  const hs = (() => { const h = b64u(JSON.stringify({ alg: 'HS256', kid, typ: 'JWT' })); const p = b64u(JSON.stringify({ iat, request_body_sha256: sha(body) })); return `${h}.${p}.${b64u(crypto.createHmac('sha256', pubPEM).update(`${h}.${p}`).digest())}`; })();
  const none = `${b64u(JSON.stringify({ alg: 'none', kid, typ: 'JWT' }))}.${b64u(JSON.stringify({ iat, request_body_sha256: sha(body) }))}.`;
  const wrongKid = sign({ alg: 'ES256', kid: '00000000-0000-4000-8000-000000000000', typ: 'JWT' }, { iat, request_body_sha256: sha(body) });

  const realKeys = [{ kid: realJWK.kid, key: crypto.createPublicKey({ key: realJWK, format: 'jwk' }) }];
  const ourKeys = [{ kid, key: pubKey }];
  const H = (j) => ({ 'Plaid-Verification': j, 'Content-Type': 'application/json' });
  const cases = [
    { name: 'real Plaid webhook (production key, Stack Overflow 62117400), key as Plaid\'s JWK', public_key: JSON.stringify(realJWK), body: realBody, headers: H(realJWT), now: realIat + 60, valid: true, keys: realKeys },
    { name: 'real Plaid webhook, key as PEM', public_key: realPEM, body: realBody, headers: H(realJWT), now: realIat + 60, valid: true, keys: [{ key: crypto.createPublicKey(realPEM) }] },
    { name: 'real Plaid webhook, body re-serialised compactly (hash differs)', public_key: JSON.stringify(realJWK), body: JSON.stringify(JSON.parse(realBody)), headers: H(realJWT), now: realIat + 60, valid: false, keys: realKeys },
    { name: 'real Plaid webhook, 301 s after iat (docs: not more than 5 minutes old)', public_key: JSON.stringify(realJWK), body: realBody, headers: H(realJWT), now: realIat + 301, valid: false, keys: realKeys },
    { name: 'fixed test key, signed DEFAULT_UPDATE', public_key: JSON.stringify(jwkPub), private_key: privPEM, body, headers: H(good), now: iat + 30, valid: true, keys: ourKeys },
    { name: 'fixed test key as PEM', public_key: pubPEM, private_key: privPEM, body, headers: H(good), now: iat + 30, valid: true, keys: [{ key: pubKey }] },
    { name: 'body tampered', public_key: JSON.stringify(jwkPub), private_key: privPEM, body: body.replace('19', '20'), headers: H(good), now: iat, valid: false, keys: ourKeys },
    { name: 'signed by another key', public_key: JSON.stringify(jwkPub), private_key: privPEM, body, headers: H(badKey), now: iat, valid: false, keys: ourKeys },
    { name: 'alg HS256 keyed with the public key (algorithm confusion)', public_key: JSON.stringify(jwkPub), private_key: privPEM, body, headers: H(hs), now: iat, valid: false, keys: ourKeys },
    { name: 'alg none', public_key: JSON.stringify(jwkPub), private_key: privPEM, body, headers: H(none), now: iat, valid: false, keys: ourKeys },
    { name: 'kid not the configured key\'s kid', public_key: JSON.stringify(jwkPub), private_key: privPEM, body, headers: H(wrongKid), now: iat, valid: false, keys: ourKeys },
  ];
  for (const c of cases) {
    check(`plaid: ${c.name}`, verify(c.headers['Plaid-Verification'], c.body, c.now, c.keys), c.valid);
    if (c.valid) c.no_sign = 'ECDSA signatures are randomised; a signer makes another, equally valid one';
  }
  write('plaid', {
    preset: 'plaid',
    docs: 'https://plaid.com/docs/api/webhooks/webhook-verification/',
    proof: 'cases 1-4: a real webhook signed by Plaid (JWT, Plaid\'s JWK from /webhook_verification_key/get and the parsed body published in https://stackoverflow.com/questions/62117400/hashing-plaid-request-body-webhook; the raw body is the 2-space-indented JSON whose SHA-256 equals the signed request_body_sha256), verified with node crypto (ES256, P-256, IEEE P1363 signature). Other cases: documented algorithm with a fixed key pair, signed and checked with node crypto. Plaid has no verifying library (plaid-go v20.1.0 / npm plaid@47.0.0 only wrap /webhook_verification_key/get; Go v20.1.0 is the newest plaid-go the module proxy serves here).',
    notes: 'Plaid-Verification holds a compact JWS/JWT: header alg MUST be ES256 (reject anything else, incl. none/HS256), kid names the key; claims iat (Unix s) and request_body_sha256 (lowercase hex SHA-256 of the raw body; Plaid\'s bodies are 2-space-indented JSON, so hash the bytes as received). Docs: reject if iat is more than 5 minutes old (tolerance 5m; these vectors also refuse >5m in the future). Key = the JWK Plaid returns ({"alg":"ES256","crv":"P-256","kid":...,"kty":"EC","x","y"}) or a PEM SPKI public key; repeatable for rotation. A JWK with a kid is not tried for a JWT that names another kid (Plaid\'s own flow looks the key up by kid); a PEM has no kid and is tried for any, and a JWT that names no kid is tried against every key. Offline only: fetching keys from Plaid (client_id/secret) is out of scope. ECDSA signatures are randomised, so the JWTs here are fixed outputs, not reproducible by re-signing; private_key (PKCS#8 PEM) is given so tests can sign fresh ones. Not signed: nothing else in the request (no URL, no other header).',
    cases: cases.map(({ keys, ...c }) => ({ method: 'POST', url: 'https://example.com/webhooks/plaid', ...c, handshake: null })),
  });
}

(async () => {
  for (const f of [paddle, square, razorpay, coinbase, lemonsqueezy, woocommerce, bigcommerce, docusign, plaid]) await f();
  if (failures) { console.error(`${failures} case(s) disagree with the official library`); process.exit(1); }
  console.log('all cases agree with the libraries');
})();
