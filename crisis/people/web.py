"""Signing in and out, and a person's own account settings."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from crisis import clock
from crisis.clock import humanize_delta
from crisis.errors import InvalidInput
from crisis.extensions import db
from crisis.people.forms import AccountForm, LoginForm, PasswordForm
from crisis.people.service import authenticate, set_password
from crisis.people.throttle import TooManyAttempts, sign_in
from crisis.web.access import permission_required, public
from crisis.web.formatting import localtime
from crisis.web.landing import landing_url

bp = Blueprint("people", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow same-site relative redirects after login."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("executive.dashboard")


def _client_address() -> str:
    # Behind a proxy, wrap the app in werkzeug's ProxyFix so this is the client, not the proxy.
    return request.remote_addr or "unknown"


def retry_phrase(retry_at: datetime) -> str:
    """'Try again after 09:45 UTC (in 15 min).' in the viewer's zone, rounded up to the minute."""
    at = retry_at.replace(second=0, microsecond=0) + timedelta(minutes=1) if retry_at.second or retry_at.microsecond else retry_at
    return f"Try again after {localtime(at, '%H:%M %Z')} (in {humanize_delta(at - clock.now())})."


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(landing_url(current_user._get_current_object()))
    return redirect(url_for("people.login"))


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            person = sign_in(email=form.email.data, password=form.password.data, ip=_client_address())
        except TooManyAttempts as error:
            db.session.commit()
            flash(f"{error.message} {retry_phrase(error.retry_at)}", "error")
            return render_template("people/login.html", form=form), 429
        if person is None:
            db.session.commit()
            flash("Email or password is wrong, or the account is disabled.", "error")
            return render_template("people/login.html", form=form), 401
        # A fresh session at login: nothing planted before sign-in survives it.
        session.clear()
        login_user(person, remember=form.remember.data)
        db.session.commit()
        target = request.args.get("next")
        return redirect(_safe_next(target) if target else landing_url(person))
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
    return render_template("people/account.html", form=form, password_form=PasswordForm(formdata=None))


@bp.route("/account/password", methods=["POST"])
@permission_required(None)
def change_password():
    form = PasswordForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(errors[0], "error")
        return redirect(url_for("people.account"))
    if authenticate(email=current_user.email, password=form.current.data) is None:
        flash("The current password is wrong.", "error")
        return redirect(url_for("people.account"))
    person = current_user._get_current_object()
    try:
        set_password(person=person, password=form.new.data)
    except InvalidInput as error:
        db.session.rollback()
        flash(error.message.capitalize() + ".", "error")
        return redirect(url_for("people.account"))
    db.session.commit()
    # set_password ended every session, this one included; start a fresh one here.
    session.clear()
    login_user(person)
    flash("Password changed; you were signed out everywhere else.", "success")
    return redirect(url_for("people.account"))
