"""Security headers fill in only what a response lacks: a view's own value stays, never doubled."""

from __future__ import annotations


def test_a_views_own_header_is_kept_and_the_rest_added_once(app):
    def own():
        return "ok", 200, {"Cache-Control": "private, max-age=60", "x-frame-options": "SAMEORIGIN"}

    app.add_url_rule("/test-own-headers", "test_own_headers", own)
    response = app.test_client().get("/test-own-headers")
    assert response.headers.getlist("Cache-Control") == ["private, max-age=60"]
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]  # names match in any case
    for name in ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
                 "Permissions-Policy", "Cross-Origin-Opener-Policy"):
        assert len(response.headers.getlist(name)) == 1, name
