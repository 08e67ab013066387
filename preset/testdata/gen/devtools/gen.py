"""Vectors for circleci and sentry (hookguard issue 10, devtools family).

    python3 gen.py      writes circleci.json and sentry.json into preset/testdata/vectors
                        (or $VECTORS_DIR)

circleci: the four signatures CircleCI publishes in its webhook docs, plus a
          workflow-completed delivery; every case is judged by the docs' own
          Python verify_signature() (copied below as published).
sentry:   the body and signature are built exactly as Sentry's server does
          (AppPlatformEvent.body = json.dumps(...), SentryApp.build_signature =
          hmac.new(client_secret.encode("utf-8"), body.encode("utf-8"),
          sha256).hexdigest()), since no Sentry library verifies webhooks.
Standard library only.
"""

import hashlib
import hmac
import json
import os

# preset/testdata/vectors when run from preset/testdata/gen/devtools; VECTORS_DIR overrides.
OUT = os.environ.get("VECTORS_DIR") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "vectors")
NOW = 1767225600  # 2026-01-01T00:00:00Z


def write(preset, doc):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, preset + ".json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"preset": preset, **doc}, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print("wrote %s (%d cases)" % (path, len(doc["cases"])))


# --- CircleCI's published example (circleci.com/docs/webhooks#payload-signature),
# --- kept as published.
def verify_signature(secret, headers, body):
    # get the v1 signature from the `circleci-signature` header
    signature_from_header = {
        k: v for k, v in [
            pair.split('=') for pair in headers['circleci-signature'].split(',')
        ]
    }['v1']

    # Run HMAC-SHA256 on the request body using the configured signing secret
    valid_signature = hmac.new(bytes(secret, 'utf-8'), bytes(body, 'utf-8'), 'sha256').hexdigest()

    # use constant time string comparison to prevent timing attacks
    return hmac.compare_digest(valid_signature, signature_from_header)


def docs_accepts(case):
    headers = {k.lower(): v for k, v in case["headers"].items()}
    try:
        return verify_signature(case["secret"], headers, case["body"])
    except (KeyError, ValueError):
        return False


def circleci():
    url = "https://hooks.example.com/circleci"

    def case(name, secret, sig_header, body, valid, extra=None):
        h = {"Content-Type": "application/json", "User-Agent": "CircleCI-Webhook/1.0"}
        if extra:
            h.update(extra)
        if sig_header is not None:
            h["circleci-signature"] = sig_header
        return {"name": name, "secret": secret, "method": "POST", "url": url, "headers": h,
                "body": body, "now": NOW, "valid": valid, "handshake": None}

    published = [
        ("hello world", "secret", "734cc62f32841568f45715aeb9f4d7891324e6d948e4c6c60c0621cdac48623a"),
        ("lalala", "another-secret", "daa220016c8f29a8b214fbfc3671aeec2145cfb1e6790184ffb38b6d0425fa00"),
        ("an-important-request-payload", "hunter123", "9be2242094a9a8c00c64306f382a7f9d691de910b4a266f67bd314ef18ac49fa"),
        ("foo", "secret", "773ba44693c7553d6ee20f61ea5d2757a9a4f4a44d2841ae4e95b52e4cd62db4"),
    ]
    cases = [case("docs table: %r / %r" % (b, k), k, "v1=" + s, b, True) for b, k, s in published]
    secret = "circleci-signing-secret-4d2a"
    body = json.dumps({
        "id": "3888f21b-eaa7-38e3-8f3d-75a63bba8895", "type": "workflow-completed",
        "happened_at": "2025-12-31T23:59:34.317Z",
        "webhook": {"id": "cf8c4fdd-0587-4da1-b4ca-4846e9640af9", "name": "Sample Webhook"},
        "project": {"id": "84996744-a854-4f5e-aea3-04e2851dc1d2", "name": "webhook-service", "slug": "github/circleci/webhook-service"},
        "organization": {"id": "f22b6566-597d-46d5-ba74-99ef5bb3d85c", "name": "circleci"},
        "workflow": {"id": "fda08377-fe7e-46b1-8992-3a7aaecac9c3", "name": "build-test-deploy", "status": "success"},
        "pipeline": {"id": "1285fe1d-d3a6-44fc-8886-8979558254c4", "number": 130, "vcs": {"branch": "main", "commit": {"subject": "caf\u00e9 \u2615"}}},
    }, separators=(",", ":"), ensure_ascii=False)
    sig = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    ev = {"circleci-event-type": "workflow-completed"}
    cases += [
        case("workflow-completed delivery", secret, "v1=" + sig, body, True, ev),
        dict(case("v1 among future versions (v1=...,v2=...)", secret, "v1=" + sig + ",v2=0123abcd", body, True, ev),
             no_sign="the header carries a v2 element that no signer of v1 adds"),
        case("docs example 'foo' signed with the other published secret", "another-secret", "v1=773ba44693c7553d6ee20f61ea5d2757a9a4f4a44d2841ae4e95b52e4cd62db4", "foo", False),
        case("docs Python example: v1=not-a-valid-signature", "secret", "v1=not-a-valid-signature", "foo", False),
        case("tampered body", secret, "v1=" + sig, body.replace("success", "failed"), False, ev),
        case("wrong secret", "not-" + secret, "v1=" + sig, body, False, ev),
        case("no v1 entry (only v2=)", secret, "v2=" + sig, body, False, ev),
        case("bare hex without v1= prefix", secret, sig, body, False, ev),
        case("signature header missing", secret, None, body, False, ev),
    ]
    for c in cases:
        got = docs_accepts(c)
        assert got == c["valid"], "circleci docs verify_signature on %r gave %r" % (c["name"], got)
    write("circleci", {
        "docs": "https://circleci.com/docs/guides/integration/outbound-webhooks/#payload-signature",
        "proof": "published test vectors (the docs' table of body / secret / v1 signature, and the 'foo' example) and the docs' own Python verify_signature() run here, which accepts each valid case and rejects each invalid one",
        "notes": "circleci-signature is a comma-separated list of version=signature pairs; v1 = hex HMAC-SHA256 of the raw body, key = the webhook's secret token (UTF-8). Check only v1 (the latest and only version; the docs say to check only the latest to prevent downgrades); other versions are ignored. No timestamp; the event id is the body's top-level \"id\" (no id header); circleci-event-type names the event. The Japanese translation of the docs table writes 'hello World'; the English 'hello world' reproduces the published signature.",
        "cases": cases,
    })


def sentry():
    url = "https://hooks.example.com/sentry"
    client_secret = "7f0b9c4e2d1a4b6c8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d"

    def body_of(action, data):
        # AppPlatformEvent.body: json.dumps of action / installation / data / actor
        return json.dumps({
            "action": action,
            "installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de"},
            "data": data,
            "actor": {"type": "application", "id": "sentry", "name": "Sentry"},
        })

    def build_signature(secret, body):
        return hmac.new(key=secret.encode("utf-8"), msg=body.encode("utf-8"), digestmod=hashlib.sha256).hexdigest()

    def headers(resource, body, secret=client_secret, ts=NOW - 1):
        return {
            "Content-Type": "application/json",
            "Request-ID": "1d3c5f7e9a0b4c2d8e6f1a3b5c7d9e0f",
            "Sentry-Hook-Resource": resource,
            "Sentry-Hook-Timestamp": str(ts),
            "Sentry-Hook-Signature": build_signature(secret, body),
        }

    issue = body_of("created", {"issue": {"id": "1170820242", "shortId": "NODE-AB", "title": "TypeError: caf\u00e9 is undefined", "level": "error", "status": "unresolved", "project": {"slug": "node"}}})
    install = body_of("created", {"installation": {"uuid": "a8e5d37a-696c-4c54-adb5-b3f28d64c7de", "status": "installed", "app": {"slug": "hookguard-test"}}})
    assert "\\u00e9" in issue  # json.dumps escapes non-ASCII: the signed bytes are ASCII
    h = headers("issue", issue)
    cases = [
        {"name": "issue.created as Sentry's server builds it (json.dumps, ASCII escapes)", "secret": client_secret, "method": "POST", "url": url, "headers": h, "body": issue, "now": NOW, "valid": True, "handshake": None},
        {"name": "installation.created", "secret": client_secret, "method": "POST", "url": url, "headers": headers("installation", install), "body": install, "now": NOW, "valid": True, "handshake": None},
        {"name": "old Sentry-Hook-Timestamp does not matter (it is not signed)", "secret": client_secret, "method": "POST", "url": url, "headers": headers("issue", issue, ts=NOW - 86400), "body": issue, "now": NOW, "valid": True, "handshake": None},
        {"name": "body re-serialised compactly (JSON.stringify of the parsed body)", "secret": client_secret, "method": "POST", "url": url, "headers": h, "body": json.dumps(json.loads(issue), separators=(",", ":")), "now": NOW, "valid": False, "handshake": None},
        {"name": "tampered body", "secret": client_secret, "method": "POST", "url": url, "headers": h, "body": issue.replace("unresolved", "resolved"), "now": NOW, "valid": False, "handshake": None},
        {"name": "wrong secret (client id instead of client secret)", "secret": "b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7", "method": "POST", "url": url, "headers": h, "body": issue, "now": NOW, "valid": False, "handshake": None},
        {"name": "signature header missing", "secret": client_secret, "method": "POST", "url": url, "headers": {k: v for k, v in h.items() if k != "Sentry-Hook-Signature"}, "body": issue, "now": NOW, "valid": False, "handshake": None},
    ]
    for c in cases:
        sig = c["headers"].get("Sentry-Hook-Signature")
        ok = sig is not None and hmac.compare_digest(build_signature(c["secret"], c["body"]), sig)
        assert ok == c["valid"], c["name"]
    write("sentry", {
        "docs": "https://docs.sentry.io/organization/integrations/integration-platform/webhooks/#verifying-the-signature",
        "proof": "documented algorithm (Sentry-Hook-Signature = hex HMAC-SHA256 of the body with the integration's Client Secret) built exactly as Sentry's server code does it: SentryApp.build_signature (src/sentry/sentry_apps/models/sentry_app.py) over AppPlatformEvent.body (src/sentry/sentry_apps/api/serializers/app_platform_event.py), run here in Python; no Sentry library verifies webhooks (@sentry/* are error-reporting SDKs)",
        "notes": "Integration-platform (internal/public integration) webhooks. Key: the integration's Client Secret, UTF-8. Signed: the raw body only; the body is Python json.dumps output (', ' and ': ' separators, non-ASCII escaped), so the docs' JSON.stringify(request.body) snippet would not reproduce it: verify the raw bytes. Sentry-Hook-Timestamp (Unix seconds) is NOT signed, so the preset does not check it; Request-ID (random uuid4 hex per send) is the delivery id; Sentry-Hook-Resource names the resource. Legacy 'Sentry-App-Signature' (UI-component requests) is not a webhook and not covered.",
        "cases": cases,
    })


if __name__ == "__main__":
    circleci()
    sentry()
