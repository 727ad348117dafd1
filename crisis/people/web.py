"""Signing in and out, and a person's own account settings."""

from __future__ import annotations

from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from crisis.extensions import db
from crisis.people.forms import AccountForm, LoginForm
from crisis.people.service import authenticate
from crisis.web.access import permission_required, public

bp = Blueprint("people", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative redirects after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("executive.dashboard")


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(url_for("executive.dashboard"))
    return redirect(url_for("people.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        person = authenticate(email=form.email.data, password=form.password.data)
        if person is None:
            flash("Email or password is wrong, or the account is disabled.", "error")
            return render_template("people/login.html", form=form), 401
        # A fresh session at login: nothing planted before sign-in survives it.
        session.clear()
        login_user(person, remember=form.remember.data)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    return render_template("people/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@permission_required(None)
def logout():
    # Ending the session server-side: the old cookie (and remember-me) stop working.
    current_user.session_version += 1
    db.session.commit()
    logout_user()
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("people.login"))


@bp.route("/account", methods=["GET", "POST"])
@permission_required(None)
def account():
    form = AccountForm(obj=current_user)
    form.timezone.choices = [("", "Organisation default")] + [(z, z) for z in sorted(available_timezones())]
    if form.validate_on_submit():
        current_user.name = form.name.data.strip()
        current_user.timezone = form.timezone.data or None
        current_user.notify_email = form.notify_email.data
        current_user.notify_in_app = form.notify_in_app.data
        db.session.commit()
        flash("Account settings saved.", "success")
        return redirect(url_for("people.account"))
    return render_template("people/account.html", form=form)
