"""The security headers every answer of the site carries, pages and API alike: one set, read by
the local server (tools/local/serve.py) and meant for CloudFront's response-headers policy, so
that the two cannot drift apart.

The policy allows the site's own origin only. The frontend is ES modules and one stylesheet
from the same origin: no inline script, no `style="…"` attribute (per-element values are CSS
custom properties set through the CSSOM, which CSP does not govern), no third party, no data:
images. A deployment whose `frontend/config.js` points `apiBase` at another origin must add
that origin to `connect-src`.
"""

CONTENT_SECURITY_POLICY_DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "font-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    # Nobody may frame the seat map (clickjacking a Book button); X-Frame-Options says the
    # same to browsers that predate frame-ancestors.
    "frame-ancestors": "'none'",
}

CONTENT_SECURITY_POLICY = "; ".join(f"{name} {value}" for name, value in CONTENT_SECURITY_POLICY_DIRECTIVES.items())

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    # Same-origin requests keep the full URL (?show=…); other sites learn nothing of it.
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
