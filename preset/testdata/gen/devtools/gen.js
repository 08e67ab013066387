// Vectors for the "devtools" family of hookguard presets (issue 10).
//
//   npm ci && node gen.js   writes <preset>.json for the node-made presets into
//                           preset/testdata/vectors (or $VECTORS_DIR)
//
// Each preset's cases are signed and/or checked with the sender's own material
// where it exists:
//   linear   npm @linear/sdk@98.0.0          LinearWebhookClient.verify()
//   segment  npm @segment/action-destinations@3.497.0 (Webhooks (Actions)
//            destination, extendRequest) run through @segment/actions-core@3.170.0
//            createTestIntegration().testAction('send') against a loopback server
//   netlify  the docs' own signed() example (jsonwebtoken@9.0.3 + js-sha256@1.0.0)
//   vercel   the docs' own createHmac('sha1') example
//   gitea, forgejo, gogs, jira, figma: documented algorithm (checked for gitea and
//            forgejo by code.gitea.io/sdk/gitea VerifyWebhookSignature, see
//            gitea-check/); circleci and sentry come from gen.py.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');

// preset/testdata/vectors when run from preset/testdata/gen/devtools; VECTORS_DIR overrides.
const OUT = process.env.VECTORS_DIR || path.join(__dirname, '..', '..', 'vectors');
const NOW = 1767225600; // 2026-01-01T00:00:00Z, the instant every case is judged at

const hex = (alg, key, data) => crypto.createHmac(alg, key).update(data).digest('hex');
const sha256hex = (data) => crypto.createHash('sha256').update(data).digest('hex');

function write(preset, doc) {
  fs.mkdirSync(OUT, { recursive: true });
  const file = path.join(OUT, `${preset}.json`);
  fs.writeFileSync(file, JSON.stringify({ preset, ...doc }, null, 2) + '\n');
  console.log(`wrote ${file} (${doc.cases.length} cases)`);
}

function must(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

// ---------------------------------------------------------------- gitea family

// Gitea marshals payloads with json.MarshalIndent(p, "", "  "): newlines and
// two-space indents are part of the signed bytes.
const giteaPush = JSON.stringify({
  ref: 'refs/heads/main',
  before: '28e1879d029cb852e4844d9c718537df08844e03',
  after: 'bffeb74224043ba2feb48d137756c8a9331c449a',
  compare_url: 'https://git.example.com/alice/webhooks/compare/28e1879d029c...bffeb7422404',
  commits: [{ id: 'bffeb74224043ba2feb48d137756c8a9331c449a', message: 'Webhooks Yay! \u00e9\u00e8\n', timestamp: '2026-01-01T00:00:00Z' }],
  repository: { id: 140, full_name: 'alice/webhooks', private: false },
  pusher: { id: 1, login: 'alice' },
}, null, 2);

function giteaHeaders(secret, body, id, withForgejo) {
  const s256 = hex('sha256', secret, body);
  const s1 = hex('sha1', secret, body);
  const h = { 'Content-Type': 'application/json' };
  if (withForgejo) {
    Object.assign(h, {
      'X-Forgejo-Delivery': id, 'X-Forgejo-Event': 'push', 'X-Forgejo-Event-Type': 'push',
      'X-Forgejo-Signature': s256,
    });
  }
  Object.assign(h, {
    'X-Gitea-Delivery': id, 'X-Gitea-Event': 'push', 'X-Gitea-Event-Type': 'push', 'X-Gitea-Signature': s256,
    'X-Gogs-Delivery': id, 'X-Gogs-Event': 'push', 'X-Gogs-Event-Type': 'push', 'X-Gogs-Signature': s256,
    'X-Hub-Signature': 'sha1=' + s1, 'X-Hub-Signature-256': 'sha256=' + s256,
    'X-GitHub-Delivery': id, 'X-GitHub-Event': 'push', 'X-GitHub-Event-Type': 'push',
  });
  return h;
}

function gitea() {
  const secret = 'gitea-webhook-secret-7f3a';
  const id = 'f6266f16-1bf3-46a5-9ea4-602e06ead473';
  const hdr = giteaHeaders(secret, giteaPush, id, false);
  // The SDK's own test (hook_validate_test.go): secret s3cr3t over this payload.
  const sdkBody = '{"foo": "bar", "baz": true}';
  const sdkSig = hex('sha256', 's3cr3t', sdkBody);
  const sdkHdr = { 'Content-Type': 'application/json', 'X-Gitea-Delivery': '00000000-0000-4000-8000-000000000001', 'X-Gitea-Signature': sdkSig };
  write('gitea', {
    docs: 'https://docs.gitea.com/usage/webhooks',
    proof: 'Go code.gitea.io/sdk/gitea@v0.25.1 VerifyWebhookSignature(secret, X-Gitea-Signature, body) accepts each valid case and rejects each invalid one (gen-devtools/gitea-check); the signing is Gitea\'s own addDefaultHeaders (services/webhook/deliver.go): hex HMAC-SHA256 of the payload, key = the secret\'s UTF-8 bytes',
    notes: 'Gitea sends the same hex HMAC-SHA256 as X-Gitea-Signature and X-Gogs-Signature, and also X-Hub-Signature (sha1=) and X-Hub-Signature-256 (sha256=); the preset reads X-Gitea-Signature, id X-Gitea-Delivery. The signature covers the JSON payload: for a hook set to content type "form" (payload=<urlencoded JSON>) or to GET, the signed bytes are not the request body, so only "application/json" POST hooks (Gitea\'s default) verify. The case "sdk test vector" is the body/secret pair of the SDK\'s hook_validate_test.go.',
    cases: [
      { name: 'push event as Gitea sends it (indented JSON, UTF-8)', secret, method: 'POST', url: 'https://hooks.example.com/gitea', headers: hdr, body: giteaPush, now: NOW, valid: true, handshake: null },
      { name: 'sdk test vector (hook_validate_test.go)', secret: 's3cr3t', method: 'POST', url: 'https://hooks.example.com/gitea', headers: sdkHdr, body: sdkBody, now: NOW, valid: true, handshake: null },
      { name: 'tampered body', secret, method: 'POST', url: 'https://hooks.example.com/gitea', headers: hdr, body: giteaPush.replace('alice/webhooks', 'mallory/webhooks'), now: NOW, valid: false, handshake: null },
      { name: 'wrong secret', secret: 'not-the-secret', method: 'POST', url: 'https://hooks.example.com/gitea', headers: hdr, body: giteaPush, now: NOW, valid: false, handshake: null },
      { name: 'sdk test vector, payload {} (hook_validate_test.go)', secret: 's3cr3t', method: 'POST', url: 'https://hooks.example.com/gitea', headers: sdkHdr, body: '{}', now: NOW, valid: false, handshake: null },
      { name: 'signature header missing', secret, method: 'POST', url: 'https://hooks.example.com/gitea', headers: omit(hdr, 'X-Gitea-Signature'), body: giteaPush, now: NOW, valid: false, handshake: null },
    ],
  });
}

function forgejo() {
  const secret = 'forgejo-webhook-secret-91c2';
  const id = '8d0c6f3e-3f5c-4d55-9a4e-1b2c3d4e5f60';
  const hdr = giteaHeaders(secret, giteaPush, id, true);
  write('forgejo', {
    docs: 'https://forgejo.org/docs/latest/user/webhooks/',
    proof: 'Forgejo\'s addDefaultHeaders (services/webhook/deliver.go) signs hex HMAC-SHA256 of the payload into X-Forgejo-Signature, X-Gitea-Signature and X-Gogs-Signature alike; Go code.gitea.io/sdk/gitea@v0.25.1 VerifyWebhookSignature accepts each valid case\'s X-Forgejo-Signature value and rejects each invalid case (gen-devtools/gitea-check); no Forgejo Go SDK is reachable from the module proxy here',
    notes: 'Forgejo sends every Gitea header too (X-Gitea-Signature equal to X-Forgejo-Signature). The preset reads X-Forgejo-Signature, id X-Forgejo-Delivery. Same form/GET limitation as gitea: the signature covers the JSON payload, not a form-encoded body.',
    cases: [
      { name: 'push event as Forgejo sends it', secret, method: 'POST', url: 'https://hooks.example.com/forgejo', headers: hdr, body: giteaPush, now: NOW, valid: true, handshake: null },
      { name: 'tampered body', secret, method: 'POST', url: 'https://hooks.example.com/forgejo', headers: hdr, body: giteaPush + '\n', now: NOW, valid: false, handshake: null },
      { name: 'wrong secret', secret: 'gitea-webhook-secret-7f3a', method: 'POST', url: 'https://hooks.example.com/forgejo', headers: hdr, body: giteaPush, now: NOW, valid: false, handshake: null },
      { name: 'Forgejo signature header missing', secret, method: 'POST', url: 'https://hooks.example.com/forgejo', headers: omit(hdr, 'X-Forgejo-Signature'), body: giteaPush, now: NOW, valid: false, handshake: null },
    ],
  });
}

function gogs() {
  const secret = 'gogs-webhook-secret-55aa';
  const id = '1c4e3f2a-9b8d-4c7e-a6f5-0e1d2c3b4a59';
  const body = JSON.stringify({ ref: 'refs/heads/main', before: '28e1879d029cb852e4844d9c718537df08844e03', after: 'bffeb74224043ba2feb48d137756c8a9331c449a', repository: { id: 140, full_name: 'alice/moonlanding' }, pusher: { login: 'alice' } }, null, 2);
  const sig = hex('sha256', secret, body);
  const hdr = { 'Content-Type': 'application/json', 'X-Github-Delivery': id, 'X-Github-Event': 'push', 'X-Gogs-Delivery': id, 'X-Gogs-Signature': sig, 'X-Gogs-Event': 'push' };
  write('gogs', {
    docs: 'https://gogs.io/docs/advancing/webhooks',
    proof: 'documented algorithm (X-Gogs-Signature: "the HMAC-SHA256 hex digest of the payload, computed using the webhook secret", docs/advancing/webhooks.mdx) and Gogs\' own prepareHookTasks/deliver (internal/database/webhook.go); computed with node crypto; no Gogs library signs or verifies (github.com/gogs/go-gogs-client has no webhook helper)',
    notes: 'Gogs signs payloader.JSONPayload(), which is the JSON body of an application/json hook; a "form" hook carries it as payload=<urlencoded> and does not verify over the raw body. The docs\' example signature 1921679e... comes without its secret, so it cannot be a vector.',
    cases: [
      { name: 'push event', secret, method: 'POST', url: 'https://hooks.example.com/gogs', headers: hdr, body, now: NOW, valid: true, handshake: null },
      { name: 'tampered body', secret, method: 'POST', url: 'https://hooks.example.com/gogs', headers: hdr, body: body.replace('main', 'evil'), now: NOW, valid: false, handshake: null },
      { name: 'wrong secret', secret: 'other', method: 'POST', url: 'https://hooks.example.com/gogs', headers: hdr, body, now: NOW, valid: false, handshake: null },
      { name: 'signature header missing', secret, method: 'POST', url: 'https://hooks.example.com/gogs', headers: omit(hdr, 'X-Gogs-Signature'), body, now: NOW, valid: false, handshake: null },
    ],
  });
}

// ---------------------------------------------------------------------- jira

function jira() {
  const secret = 'jira-admin-webhook-secret-0f9e8d7c';
  const body = JSON.stringify({
    timestamp: 1767225599123, webhookEvent: 'jira:issue_created', issue_event_type_name: 'issue_created',
    user: { accountId: '5b10a2844c20165700ede21g', displayName: 'Ren\u00e9e' },
    issue: { id: '10001', key: 'PRJ-1', fields: { summary: 'Webhook \u2713', project: { key: 'PRJ' } } },
  });
  const hdr = {
    'Content-Type': 'application/json; charset=UTF-8',
    'X-Atlassian-Webhook-Identifier': '1a2b3c4d-5e6f-4789-8abc-def012345678',
    'X-Atlassian-Webhook-Flow': 'Primary',
    'X-Hub-Signature': 'sha256=' + hex('sha256', secret, body),
  };
  write('jira', {
    docs: 'https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks',
    proof: 'documented algorithm: admin webhooks registered with a secret carry X-Hub-Signature: sha256=<hex HMAC-SHA256 of the body, key = the secret> (WebSub method=signature form); computed with node crypto; Atlassian publishes no library that verifies it and no vector with its secret',
    notes: 'Only admin webhooks (Jira administration page or POST /rest/webhooks/1.0/webhook) with a secret are signed; webhooks registered by Connect/OAuth apps carry a JWT instead and are not this preset. The WebSub form allows other method names; Jira documents sha256 ("the default"), so the preset accepts sha256= only. Delivery id: X-Atlassian-Webhook-Identifier (unchanged across retries). No timestamp is signed.',
    cases: [
      { name: 'issue created', secret, method: 'POST', url: 'https://hooks.example.com/jira', headers: hdr, body, now: NOW, valid: true, handshake: null },
      { name: 'tampered body', secret, method: 'POST', url: 'https://hooks.example.com/jira', headers: hdr, body: body.replace('PRJ-1', 'PRJ-2'), now: NOW, valid: false, handshake: null },
      { name: 'wrong secret', secret: 'another-secret', method: 'POST', url: 'https://hooks.example.com/jira', headers: hdr, body, now: NOW, valid: false, handshake: null },
      { name: 'sha1 method is not accepted', secret, method: 'POST', url: 'https://hooks.example.com/jira', headers: { ...hdr, 'X-Hub-Signature': 'sha1=' + hex('sha1', secret, body) }, body, now: NOW, valid: false, handshake: null },
      { name: 'signature header missing', secret, method: 'POST', url: 'https://hooks.example.com/jira', headers: omit(hdr, 'X-Hub-Signature'), body, now: NOW, valid: false, handshake: null },
    ],
  });
}

// -------------------------------------------------------------------- vercel

function vercel() {
  const secret = 'vercel-integration-client-secret-3b9d';
  const body = JSON.stringify({
    id: 'ZgjrKBHLxkY6TCNb4jHAUmZQ', type: 'deployment.created', createdAt: 1767225599000, region: 'sfo1',
    payload: { team: { id: 'team_1a2b3c' }, user: { id: 'user_9z8y' }, deployment: { id: 'dpl_2euZBFqxYdDMDG1jTrHFnNZ2eUVa', name: 'my-app', url: 'my-app-abc123.vercel.app' }, target: 'production' },
  });
  // The docs' example: crypto.createHmac('sha1', INTEGRATION_SECRET).update(rawBody).digest('hex')
  const sig = crypto.createHmac('sha1', secret).update(Buffer.from(body, 'utf-8')).digest('hex');
  const hdr = { 'Content-Type': 'application/json', 'x-vercel-signature': sig };
  write('vercel', {
    docs: 'https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks',
    proof: 'the docs\' published verification example (crypto.createHmac("sha1", secret).update(rawBody).digest("hex") compared with x-vercel-signature) run here with node crypto; Vercel publishes no library that verifies webhooks (@vercel/sdk has none) and no vector with its secret',
    notes: 'The key is the integration\'s Client Secret for integration webhooks, or the secret shown once when an account/team webhook is created. Hex HMAC-SHA1 of the raw body, no prefix, no timestamp; the body\'s "id" is the event id (no id header).',
    cases: [
      { name: 'deployment.created', secret, method: 'POST', url: 'https://hooks.example.com/vercel', headers: hdr, body, now: NOW, valid: true, handshake: null },
      { name: 'tampered body', secret, method: 'POST', url: 'https://hooks.example.com/vercel', headers: hdr, body: body.replace('production', 'preview'), now: NOW, valid: false, handshake: null },
      { name: 'wrong secret', secret: 'wrong', method: 'POST', url: 'https://hooks.example.com/vercel', headers: hdr, body, now: NOW, valid: false, handshake: null },
      { name: 'sha256 instead of sha1', secret, method: 'POST', url: 'https://hooks.example.com/vercel', headers: { ...hdr, 'x-vercel-signature': hex('sha256', secret, body) }, body, now: NOW, valid: false, handshake: null },
      { name: 'signature header missing', secret, method: 'POST', url: 'https://hooks.example.com/vercel', headers: omit(hdr, 'x-vercel-signature'), body, now: NOW, valid: false, handshake: null },
    ],
  });
}

// ------------------------------------------------------------------- netlify

function netlify() {
  const jwt = require('jsonwebtoken');
  const { sha256 } = require('js-sha256');
  // The docs' example, verbatim in substance:
  function signed(event, JWS_SECRET) {
    const signature = event.headers['x-webhook-signature'];
    const body = event.body;
    const decoded = jwt.verify(signature, JWS_SECRET, { issuer: ['netlify'] });
    const hashedBody = sha256(body);
    return decoded.sha256 === hashedBody;
  }
  const docsAccepts = (headers, body, secret) => {
    try {
      const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
      return signed({ headers: lower, body }, secret);
    } catch (e) {
      return false;
    }
  };
  const secret = 'netlify-jws-secret-token-5c1e0b7a';
  const body = JSON.stringify({
    id: '5ebc34bf4fea0b01f02efa3a', site_id: 'fa4dd95a-994e-4f89-8a7a-2d9e9fc36a32', build_id: '5ebc34bf4fea0b01f02efa38',
    state: 'ready', name: 'my-site', url: 'https://www.example.com', branch: 'main', context: 'production',
    created_at: '2025-12-31T23:58:15.346Z', updated_at: '2025-12-31T23:59:56.738Z', title: 'Caf\u00e9 deploy',
  });
  const iat = NOW - 2;
  const token = jwt.sign({ iss: 'netlify', sha256: sha256(body), iat }, secret, { algorithm: 'HS256' });
  const hdr = { 'Content-Type': 'application/json', 'X-Netlify-Event': 'deploy_created', 'X-Webhook-Signature': token };
  const wrongIss = jwt.sign({ iss: 'not-netlify', sha256: sha256(body), iat }, secret, { algorithm: 'HS256' });
  const noneAlg = jwt.sign({ iss: 'netlify', sha256: sha256(body), iat }, null, { algorithm: 'none' });
  const hs512 = jwt.sign({ iss: 'netlify', sha256: sha256(body), iat }, secret, { algorithm: 'HS512' });
  const cases = [
    { name: 'deploy succeeded, JWS as the docs describe', secret, method: 'POST', url: 'https://hooks.example.com/netlify', headers: hdr, body, now: NOW, valid: true, handshake: null },
    { name: 'tampered body (sha256 claim no longer matches)', secret, method: 'POST', url: 'https://hooks.example.com/netlify', headers: hdr, body: body.replace('ready', 'error'), now: NOW, valid: false, handshake: null },
    { name: 'wrong secret', secret: 'other-jws-secret', method: 'POST', url: 'https://hooks.example.com/netlify', headers: hdr, body, now: NOW, valid: false, handshake: null },
    { name: 'issuer is not netlify', secret, method: 'POST', url: 'https://hooks.example.com/netlify', headers: { ...hdr, 'X-Webhook-Signature': wrongIss }, body, now: NOW, valid: false, handshake: null },
    { name: 'alg none', secret, method: 'POST', url: 'https://hooks.example.com/netlify', headers: { ...hdr, 'X-Webhook-Signature': noneAlg }, body, now: NOW, valid: false, handshake: null },
    { name: 'signature header missing', secret, method: 'POST', url: 'https://hooks.example.com/netlify', headers: omit(hdr, 'X-Webhook-Signature'), body, now: NOW, valid: false, handshake: null },
  ];
  for (const c of cases) {
    must(docsAccepts(c.headers, c.body, c.secret) === c.valid, `netlify docs example on "${c.name}"`);
  }
  // jsonwebtoken also accepts HS384/HS512 when no algorithms option is given; record it, do not make it a case.
  const hs512Accepted = docsAccepts({ ...hdr, 'X-Webhook-Signature': hs512 }, body, secret);
  write('netlify', {
    docs: 'https://docs.netlify.com/site-deploys/deploy-notifications/#payload-signature',
    proof: 'the docs\' published example signed(): jwt.verify(x-webhook-signature, JWS_SECRET, {issuer: ["netlify"]}) and decoded.sha256 === sha256(body), with npm jsonwebtoken@9.0.3 and js-sha256@1.0.0, accepts each valid case and rejects each invalid one; tokens made with jsonwebtoken.sign(HS256); Netlify publishes no library and no vector with its secret',
    notes: `X-Webhook-Signature is a compact JWS (JWT), HS256 with the "JWS secret token" as raw UTF-8 key; claims iss = "netlify" and sha256 = lowercase hex SHA-256 of the raw body. Netlify documents no exp; iat is present in these vectors (jsonwebtoken's default) and must not matter. Only HS256 should be accepted (the docs' example, passing no algorithms list, would also take HS512: ${hs512Accepted}); alg none never. Same scheme for form-submission outgoing webhooks.`,
    cases,
  });
}

// -------------------------------------------------------------------- linear

function linear() {
  return import('@linear/sdk/webhooks').then(({ LinearWebhookClient, LINEAR_WEBHOOK_SIGNATURE_HEADER }) => {
    const secret = 'lin_wh_0123456789abcdefABCDEF0123456789abcdef';
    const mk = (tsMs, extra = {}) => JSON.stringify({
      action: 'create', type: 'Issue', createdAt: '2025-12-31T23:59:55.000Z', organizationId: 'a1b2c3d4-0000-4000-8000-000000000001',
      url: 'https://linear.app/acme/issue/ENG-42', webhookId: 'c9d8e7f6-0000-4000-8000-000000000002',
      data: { id: '7e6d5c4b-0000-4000-8000-000000000003', identifier: 'ENG-42', title: 'Caf\u00e9 \u2615 crash', priority: 2 },
      webhookTimestamp: tsMs, ...extra,
    });
    const fresh = mk(NOW * 1000 - 5000);
    const stale = mk(NOW * 1000 - 120000);
    const noTs = JSON.stringify({ action: 'create', type: 'Issue', data: { id: 'x' } });
    const strTs = JSON.stringify({ action: 'create', type: 'Issue', data: { id: 'x' }, webhookTimestamp: String(NOW * 1000) });
    const sig = (b, k = secret) => hex('sha256', k, b);
    const hdr = (b, k) => ({
      'Content-Type': 'application/json; charset=utf-8',
      'Linear-Delivery': '3f1e2d3c-0000-4000-8000-000000000004',
      'Linear-Event': 'Issue',
      'Linear-Signature': sig(b, k),
      'Linear-Timestamp': String(NOW * 1000 - 5000),
    });
    const cases = [
      { name: 'issue created, 5 s old', secret, method: 'POST', url: 'https://hooks.example.com/linear', headers: hdr(fresh), body: fresh, now: NOW, valid: true, handshake: null },
      { name: 'tampered body', secret, method: 'POST', url: 'https://hooks.example.com/linear', headers: hdr(fresh), body: fresh.replace('ENG-42', 'ENG-43'), now: NOW, valid: false, handshake: null },
      { name: 'wrong secret', secret: 'lin_wh_wrong', method: 'POST', url: 'https://hooks.example.com/linear', headers: hdr(fresh), body: fresh, now: NOW, valid: false, handshake: null },
      { name: 'stale: webhookTimestamp 120 s old (tolerance 60 s)', secret, method: 'POST', url: 'https://hooks.example.com/linear', headers: hdr(stale), body: stale, now: NOW, valid: false, handshake: null },
      { name: 'signed body without webhookTimestamp', secret, method: 'POST', url: 'https://hooks.example.com/linear', headers: hdr(noTs), body: noTs, now: NOW, valid: false, handshake: null },
      { name: 'webhookTimestamp is a string, not a number', secret, method: 'POST', url: 'https://hooks.example.com/linear', headers: hdr(strTs), body: strTs, now: NOW, valid: false, handshake: null },
      { name: 'fresh Linear-Timestamp header cannot rescue a stale body', secret, method: 'POST', url: 'https://hooks.example.com/linear', headers: { ...hdr(stale), 'Linear-Timestamp': String(NOW * 1000) }, body: stale, now: NOW, valid: false, handshake: null },
      { name: 'signature header missing', secret, method: 'POST', url: 'https://hooks.example.com/linear', headers: omit(hdr(fresh), 'Linear-Signature'), body: fresh, now: NOW, valid: false, handshake: null },
    ];
    const realNow = Date.now;
    Date.now = () => NOW * 1000;
    try {
      for (const c of cases) {
        const client = new LinearWebhookClient(c.secret);
        const s = c.headers['Linear-Signature'];
        let ok;
        try {
          ok = s !== undefined && client.verify(Buffer.from(c.body, 'utf-8'), s, c.headers['Linear-Timestamp']) === true;
        } catch (e) {
          ok = false;
        }
        must(ok === c.valid, `@linear/sdk verify on "${c.name}" gave ${ok}`);
      }
    } finally {
      Date.now = realNow;
    }
    must(LINEAR_WEBHOOK_SIGNATURE_HEADER === 'linear-signature', 'linear header name');
    write('linear', {
      docs: 'https://linear.app/developers/webhooks#securing-webhooks',
      proof: 'npm @linear/sdk@98.0.0 LinearWebhookClient.verify(rawBody, linear-signature) (from "@linear/sdk/webhooks", Date.now pinned to each case\'s now) accepts each valid case and rejects each invalid one',
      notes: 'Linear-Signature is hex HMAC-SHA256 of the raw body, key = the signing secret as given (UTF-8). The timestamp is the top-level "webhookTimestamp" number in the signed JSON body, in milliseconds; the SDK rejects a missing or non-number one and one more than 60 s from now (either side). The Linear-Timestamp header (ms) is unsigned and ignored by the SDK. Delivery id: Linear-Delivery.',
      cases,
    });
  });
}

// --------------------------------------------------------------------- figma

function figma() {
  const passcode = 'figma-passcode-2c8f4e1a9b';
  const mk = (p, type = 'FILE_UPDATE', extra = {}) => JSON.stringify({
    event_type: type, file_key: 'zH3nmOgzRGUPWNXQhFOaEv', file_name: 'Design system \u00e9', passcode: p,
    protocol_version: '2', retries: 0, timestamp: '2025-12-31T23:59:58Z', webhook_id: '22', ...extra,
  });
  const ping = JSON.stringify({ event_type: 'PING', passcode, protocol_version: '2', retries: 0, timestamp: '2025-12-31T23:59:59Z', webhook_id: '22' });
  const body = mk(passcode);
  const hdr = { 'Content-Type': 'application/json' };
  write('figma', {
    docs: 'https://developers.figma.com/docs/rest-api/webhooks-security/',
    proof: 'documented algorithm: the passcode given when the webhook was created is echoed in every event\'s JSON body ("passcode" field) and is to be compared with the one configured; no signature exists; Figma publishes no verifying library (@figma/rest-api-spec has types only)',
    notes: 'Webhooks V2. The secret is the passcode, compared in constant time with the top-level string field "passcode" of the JSON body; nothing else is signed (timestamp, webhook_id are plain body fields), so there is no replay protection beyond the passcode. Figma sends a PING event (same shape, same passcode) when a webhook is created; it is an ordinary passcode-bearing POST and needs no special answer beyond 2xx. Figma\'s docs say to answer a wrong passcode with 400, which stops the webhook; hookguard answers 401 like every refusal.',
    cases: [
      { name: 'FILE_UPDATE with the right passcode', secret: passcode, method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body, now: NOW, valid: true, handshake: null },
      { name: 'PING sent when the webhook is created', secret: passcode, method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body: ping, now: NOW, valid: true, handshake: null },
      { name: 'wrong passcode', secret: passcode, method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body: mk('guessed'), now: NOW, valid: false, handshake: null },
      { name: 'configured passcode differs (wrong secret)', secret: 'another-passcode', method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body, now: NOW, valid: false, handshake: null },
      { name: 'passcode missing', secret: passcode, method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body: JSON.stringify({ event_type: 'FILE_UPDATE', webhook_id: '22' }), now: NOW, valid: false, handshake: null },
      { name: 'passcode only nested, not top level', secret: passcode, method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body: JSON.stringify({ event_type: 'FILE_UPDATE', data: { passcode } }), now: NOW, valid: false, handshake: null },
      { name: 'passcode is not a string', secret: '12345', method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body: JSON.stringify({ event_type: 'FILE_UPDATE', passcode: 12345 }), now: NOW, valid: false, handshake: null },
      { name: 'body is not JSON', secret: passcode, method: 'POST', url: 'https://hooks.example.com/figma', headers: hdr, body: `passcode=${passcode}`, now: NOW, valid: false, handshake: null },
    ],
  });
}

// ------------------------------------------------------------------- segment

function capture(fn) {
  return new Promise((resolve, reject) => {
    const got = [];
    const srv = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        got.push({ method: req.method, headers: req.headers, body: Buffer.concat(chunks).toString('utf-8') });
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.end('OK');
      });
    });
    srv.listen(0, '127.0.0.1', async () => {
      try {
        await fn(`http://127.0.0.1:${srv.address().port}/`);
        srv.close();
        resolve(got);
      } catch (e) {
        srv.close();
        reject(e);
      }
    });
  });
}

async function segment() {
  const { createTestIntegration, createTestEvent } = require('@segment/actions-core');
  const destination = require('@segment/action-destinations/dist/destinations/webhook').default;
  const sharedSecret = 'segment-shared-secret-8e2f';
  const td = createTestIntegration(destination);
  const event = createTestEvent({
    type: 'track', event: 'Order Completed', userId: 'user-42', messageId: 'api-2f6d3b1c-seg',
    timestamp: '2025-12-31T23:59:58.000Z', properties: { order_id: 'A-1001', total: 19.99, currency: 'EUR', note: 'caf\u00e9' },
  });
  const one = await capture((url) => td.testAction('send', { event, mapping: { url, data: { '@path': '$.properties' } }, settings: { sharedSecret }, useDefaultMappings: true }));
  must(one.length === 1, 'segment: one request');
  const req = one[0];
  const sig = req.headers['x-signature'];
  must(sig === hex('sha1', sharedSecret, req.body), 'segment: X-Signature is hex HMAC-SHA1 of the body sent');
  // Batched delivery: the library signs JSON.stringify(first event's data) only.
  const events = [
    createTestEvent({ messageId: 'b1', properties: { cool: false } }),
    createTestEvent({ messageId: 'b2', properties: { cool: true } }),
  ];
  const batch = await capture((url) => td.testBatchAction('send', { events, mapping: { url, data: { '@path': '$.properties' } }, settings: { sharedSecret }, useDefaultMappings: true }));
  must(batch.length === 1, 'segment: one batch request');
  const bsig = batch[0].headers['x-signature'];
  const batchSignsFirstOnly = bsig === hex('sha1', sharedSecret, JSON.stringify(JSON.parse(batch[0].body)[0])) && bsig !== hex('sha1', sharedSecret, batch[0].body);
  const hdr = { 'Content-Type': req.headers['content-type'], 'X-Signature': sig };
  write('segment', {
    docs: 'https://www.twilio.com/docs/segment/connections/destinations/catalog/actions-webhook',
    proof: 'npm @segment/action-destinations@3.497.0 Webhooks (Actions) destination (extendRequest signs with the Shared Secret) run through @segment/actions-core@3.170.0 createTestIntegration().testAction("send") against a loopback server: the valid case is the request it sent, byte for byte',
    notes: `X-Signature is hex HMAC-SHA1 of the body, key = the Shared Secret (UTF-8), no prefix, no timestamp, no id header (the event's messageId is in the body when mapped). Batched deliveries (batch size > 1) sign only JSON.stringify(first event) while the body is the JSON array of all events (checked here: ${batchSignsFirstOnly}); such a request does not verify over its raw body. The classic "Webhooks" destination documents the same X-Signature scheme.`,
    cases: [
      { name: 'track event sent by the Webhooks (Actions) destination', secret: sharedSecret, method: req.method, url: 'https://hooks.example.com/segment', headers: hdr, body: req.body, now: NOW, valid: true, handshake: null },
      { name: 'tampered body', secret: sharedSecret, method: req.method, url: 'https://hooks.example.com/segment', headers: hdr, body: req.body.replace('19.99', '0.01'), now: NOW, valid: false, handshake: null },
      { name: 'wrong secret', secret: 'not-the-shared-secret', method: req.method, url: 'https://hooks.example.com/segment', headers: hdr, body: req.body, now: NOW, valid: false, handshake: null },
      { name: 'signature header missing', secret: sharedSecret, method: req.method, url: 'https://hooks.example.com/segment', headers: { 'Content-Type': hdr['Content-Type'] }, body: req.body, now: NOW, valid: false, handshake: null },
      { name: 'batched delivery: library signs the first event only, not the body', secret: sharedSecret, method: batch[0].method, url: 'https://hooks.example.com/segment', headers: { 'Content-Type': batch[0].headers['content-type'], 'X-Signature': bsig }, body: batch[0].body, now: NOW, valid: false, handshake: null },
    ],
  });
}

function omit(h, name) {
  const o = { ...h };
  delete o[name];
  return o;
}

async function main() {
  gitea();
  forgejo();
  gogs();
  jira();
  vercel();
  netlify();
  figma();
  await linear();
  await segment();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
