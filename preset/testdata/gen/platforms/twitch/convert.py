#!/usr/bin/env python3
"""Turn captured.jsonl (requests the official twitch CLI sent to capture.py) into
vectors/twitch.json, checking each signature independently with the documented
algorithm (HMAC-SHA256 over message id + timestamp + body) and adding the
invalid cases derived from them.

    python3 convert.py <outdir>
"""
import hashlib
import hmac
import json
import os
import sys

SECRET = "s3cRe7-f0r-hookguard-tests"
NOW = 1700000000  # 2023-11-14T22:13:20Z
TOLERANCE = 600   # "isn't older than 10 minutes"
URL = "https://example.com/eventsub"
KEEP = ["Content-Type", "Twitch-Eventsub-Message-Id", "Twitch-Eventsub-Message-Retry",
        "Twitch-Eventsub-Message-Signature", "Twitch-Eventsub-Message-Timestamp",
        "Twitch-Eventsub-Message-Type", "Twitch-Eventsub-Subscription-Type",
        "Twitch-Eventsub-Subscription-Version"]


def sig(secret, mid, ts, body):
    return "sha256=" + hmac.new(secret.encode(), (mid + ts + body).encode(), hashlib.sha256).hexdigest()


def case(name, rec, valid, handshake=None, **over):
    h = {k: v for k, v in rec["headers"] if k in KEEP}
    h.update(over.pop("headers", {}))
    for k in [k for k, v in h.items() if v is None]:
        del h[k]
    c = {"name": name, "secret": over.pop("secret", SECRET), "method": "POST", "url": URL,
         "headers": h, "body": over.pop("body", rec["body"]), "now": NOW, "valid": valid,
         "handshake": handshake}
    assert not over
    return c


recs = [json.loads(l) for l in open(os.path.join(os.path.dirname(__file__) or ".", "captured.jsonl"))]
for r in recs:
    h = dict(r["headers"])
    want = sig(SECRET, h["Twitch-Eventsub-Message-Id"], h["Twitch-Eventsub-Message-Timestamp"], r["body"])
    assert want == h["Twitch-Eventsub-Message-Signature"], "CLI signature differs from the documented algorithm"
verify, follow, revoke, fresh, stale = recs
challenge = json.loads(verify["body"])["challenge"]
fh = dict(follow["headers"])

cases = [
    case("webhook_callback_verification sent by twitch-cli event verify-subscription", verify, True,
         {"status": 200, "content_type": "text/plain", "body": challenge, "headers": {}}),
    case("notification channel.follow sent by twitch-cli event trigger", follow, True),
    case("revocation (authorization_revoked) sent by twitch-cli event trigger", revoke, True),
    case("notification 9m59s old (inside Twitch's 10 minutes)", fresh, True),
    case("notification 10m01s old (correctly signed, stale)", stale, False),
    case("tampered body", follow, False, body=follow["body"].replace("testFromUser", "attacker", 1)),
    case("wrong secret", follow, False, secret="another-secret-0123"),
    case("message id changed after signing", follow, False,
         headers={"Twitch-Eventsub-Message-Id": "00000000-0000-0000-0000-000000000000"}),
    case("timestamp changed after signing", follow, False,
         headers={"Twitch-Eventsub-Message-Timestamp": "2023-11-14T22:13:20.634234627Z"}),
    case("message id missing", follow, False, headers={"Twitch-Eventsub-Message-Id": None}),
    case("timestamp missing", follow, False, headers={"Twitch-Eventsub-Message-Timestamp": None}),
    case("signature without the sha256= prefix", follow, False,
         headers={"Twitch-Eventsub-Message-Signature": fh["Twitch-Eventsub-Message-Signature"][len("sha256="):]}),
    case("verification challenge with a forged signature is not answered", verify, False,
         headers={"Twitch-Eventsub-Message-Signature": sig("guess-guess-guess", dict(verify["headers"])["Twitch-Eventsub-Message-Id"],
                                                            dict(verify["headers"])["Twitch-Eventsub-Message-Timestamp"], verify["body"])}),
]

doc = {
    "preset": "twitch",
    "docs": "https://dev.twitch.tv/docs/eventsub/handling-webhook-events/",
    "proof": "requests sent by Twitch's official CLI (github.com/twitchdev/twitch-cli at fd7dac646eea56c9ac9c1d36893e611de855c21e, internal/events/trigger/forward_event.go getSignatureHeader) with `twitch event verify-subscription channel.follow -F <loopback> -s <secret> --timestamp ... -I ...` and `twitch event trigger channel.follow|stream.online ... [--subscription-status authorization_revoked]`, captured on loopback by capture.py; the CLI's verify-subscription accepted the answer given here (200, text/plain, body = challenge); each signature re-checked with the documented algorithm",
    "notes": "Twitch-Eventsub-Message-Signature = 'sha256=' + lower-case hex HMAC-SHA256(secret as UTF-8, Twitch-Eventsub-Message-Id + Twitch-Eventsub-Message-Timestamp + raw body), the header strings used exactly as sent. The timestamp is RFC 3339 with up to nanosecond fractions (the CLI formats RFC3339Nano, trimming trailing zeros); Twitch says reject messages older than 10 minutes and de-duplicate Twitch-Eventsub-Message-Id (the delivery id; retries keep it). The secret is 10-100 ASCII characters chosen by the subscriber. Twitch-Eventsub-Message-Type: notification | webhook_callback_verification | revocation. The verification message is signed: verify it, then answer 200 with Content-Type text/plain and the raw challenge string from the JSON body (the CLI checks body == challenge, a 2xx status and text/plain). Revocation is an ordinary signed message; any 2xx acknowledges it. Interpreted: the verification's created_at is the CLI's wall clock, only the header timestamp is judged.",
    "cases": cases,
}
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "vectors")
with open(os.path.join(out, "twitch.json"), "w") as f:
    f.write(json.dumps(doc, indent=2) + "\n")
print("wrote", len(cases), "cases")
