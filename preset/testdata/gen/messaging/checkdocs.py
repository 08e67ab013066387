"""Re-checks the frameio and intercom vectors with the docs' own code (Frame.io's
Python verify_signature snippet, verbatim) and with Python's hmac for Intercom's
documented algorithm.  Usage: python3 checkdocs.py [vectors dir]"""
import hashlib
import hmac
import json
import os
import sys

VECTORS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..", "vectors")


# --- Frame.io docs, "Verifying Webhook Signatures" (developer.frame.io/platform/v4/docs/guides/webhooks), verbatim:
def verify_signature(curr_time, req_time, signature, body, secret):
    """
    Verify Webhook signature
    :Args:
        curr_time (float): Current epoch time
        req_time (float): Request epoch time
        signature (str): Signature provided by the Frame.io API for the given request
        body (str): Webhook body from the received POST
        secret (str): The secret for this Webhook that you saved when you first created it
    """
    if int(curr_time) - int(req_time) < 500:
        message = 'v0:{}:{}'.format(req_time, body)
        calculated_signature = 'v0={}'.format(hmac.new(
            bytes(secret, 'latin-1'),
            msg=bytes(message, 'latin-1'),
            digestmod=hashlib.sha256).hexdigest())
        if calculated_signature == signature:
            return True
    return False
# --- end of the docs' snippet


def load(name):
    with open(os.path.join(VECTORS, name + ".json")) as f:
        return json.load(f)["cases"]


failures = 0


def report(preset, case, got, want, how):
    global failures
    ok = got == want
    if not ok:
        failures += 1
    print("%s %-10s %-70.70s got=%s want=%s (%s)" % ("ok  " if ok else "FAIL", preset, case["name"], got, want, how))


for c in load("frameio"):
    h = c["headers"]
    sig, ts = h.get("X-Frameio-Signature"), h.get("X-Frameio-Request-Timestamp")
    got = sig is not None and ts is not None and verify_signature(c["now"], ts, sig, c["body"], c["secret"])
    want = c["valid"]
    how = "Frame.io docs' verify_signature()"
    if "past 5 minutes" in c["name"]:
        want, how = True, how + "; the snippet's window is 500 s, the prose says 5 minutes"
    report("frameio", c, got, want, how)

for c in load("intercom"):
    sig = c["headers"].get("X-Hub-Signature")
    calc = "sha1=" + hmac.new(c["secret"].encode(), c["body"].encode(), hashlib.sha1).hexdigest()
    got = sig is not None and hmac.compare_digest(sig, calc)
    report("intercom", c, got, c["valid"], "python hmac, documented algorithm")

if failures:
    print("%d FAILED" % failures)
    sys.exit(1)
print("all cases agree")
