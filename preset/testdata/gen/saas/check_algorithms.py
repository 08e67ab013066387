#!/usr/bin/env python3
"""Independent re-implementation (stdlib only) of each saas preset's algorithm
as described in the comments of preset/saas.go; it must agree with every vector's
"valid" flag. This checks the DESCRIPTION that the Go code will follow, not
the senders (gen.js judges the cases with the senders' own code)."""
import base64, hashlib, hmac, json, re, sys, urllib.parse
from pathlib import Path

VEC = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent.parent / "vectors")

def hget(c, name):
    vals = [v for k, v in c["headers"].items() if k.lower() == name.lower()]
    return vals[0] if len(vals) == 1 else None

def H(key, msg, alg=hashlib.sha256):
    return hmac.new(key, msg, alg).digest()

def svix(c):
    i, t, s = hget(c, "svix-id"), hget(c, "svix-timestamp"), hget(c, "svix-signature")
    if not (i and t and s): return False
    if abs(c["now"] - int(t)) > 300: return False
    key = base64.b64decode(c["secret"].removeprefix("whsec_"))
    want = base64.b64encode(H(key, f"{i}.{t}.".encode() + c["body"].encode())).decode()
    for part in s.split(" "):
        v, _, sig = part.partition(",")
        if v == "v1" and hmac.compare_digest(sig, want): return True
    return False

# JS encodeURI / querystring.escape unreserved sets
_ENCODEURI_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789;,/?:@&=+$-_.!~*'()#"
_QS_ESCAPE_SAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()"
def contentful_path(target):
    parts = target.split("?")
    p, q = parts[0], (parts[1] if len(parts) > 1 else "")
    if q:
        q = urllib.parse.quote(q, safe=_QS_ESCAPE_SAFE)
        return urllib.parse.quote(f"{p}?{q}", safe=_ENCODEURI_SAFE)
    return urllib.parse.quote(p, safe=_ENCODEURI_SAFE)

def contentful(c):
    sig, sh, ts = hget(c, "x-contentful-signature"), hget(c, "x-contentful-signed-headers"), hget(c, "x-contentful-timestamp")
    if not (sig and sh and ts) or len(sig) != 64 or not ts.isdigit(): return False
    ts = int(ts)
    if c["now"] * 1000 - ts >= 30000 or ts - c["now"] * 1000 > 30000: return False
    listed = sh.split(",")
    hdrs = {k.lower().strip(): v.strip() for k, v in c["headers"].items()}
    picked = {k: hdrs[k] for k in listed if k in hdrs}
    picked["x-contentful-timestamp"] = str(ts)
    picked["x-contentful-signed-headers"] = ",".join(sorted(set(picked)))
    u = urllib.parse.urlsplit(c["url"])
    target = u.path + ("?" + u.query if u.query else "")
    canon = "\n".join([c["method"], contentful_path(target), ";".join(f"{k}:{picked[k]}" for k in sorted(picked)), c["body"]])
    return hmac.compare_digest(sig, H(c["secret"].encode(), canon.encode()).hex())

def sanity(c):
    s = hget(c, "sanity-webhook-signature")
    m = re.fullmatch(r"t=(\d+),v1=([A-Za-z0-9_-]+)", s or "")
    if not m: return False
    t = int(m.group(1))
    if t < 1609459200000 or abs(c["now"] * 1000 - t) > 300000: return False
    want = base64.urlsafe_b64encode(H(c["secret"].encode(), f"{t}.".encode() + c["body"].encode())).decode().rstrip("=")
    return hmac.compare_digest(m.group(2), want)

def t_v1_hex(header, tol):
    def f(c):
        s = hget(c, header)
        if not s: return False
        t, sigs = None, []
        for item in s.split(","):
            k, _, v = item.partition("=")
            if k == "t": t = v
            elif k == "v1": sigs.append(v)
        if t is None or not t.isdigit() or not sigs: return False
        if abs(c["now"] - int(t)) > tol: return False
        want = H(c["secret"].encode(), f"{t}.".encode() + c["body"].encode()).hex()
        return any(hmac.compare_digest(x, want) for x in sigs)
    return f

def typeform(c):
    s = hget(c, "Typeform-Signature")
    return s is not None and hmac.compare_digest(s, "sha256=" + base64.b64encode(H(c["secret"].encode(), c["body"].encode())).decode())

def airtable(c):
    s = hget(c, "X-Airtable-Content-MAC")
    return s is not None and hmac.compare_digest(s, "hmac-sha256=" + H(base64.b64decode(c["secret"]), c["body"].encode()).hex())

def strapi(c):
    s = hget(c, "Authorization")
    return s is not None and hmac.compare_digest(s.encode(), ("Bearer " + c["secret"]).encode())

CHECK = {"clerk": svix, "resend": svix, "contentful": contentful, "sanity": sanity,
         "mux": t_v1_hex("Mux-Signature", 300), "calendly": t_v1_hex("Calendly-Webhook-Signature", 180),
         "typeform": typeform, "airtable": airtable, "strapi": strapi}

bad = 0
for name, fn in CHECK.items():
    d = json.loads((VEC / f"{name}.json").read_text())
    for c in d["cases"]:
        got = fn(c)
        if got != c["valid"]:
            bad += 1
            print(f"MISMATCH {name}: {c['name']}: got {got}, want {c['valid']}")
    print(f"{name}: {len(d['cases'])} cases checked")
sys.exit(1 if bad else 0)
