"""Who may use the app: the rules of ragqa.hosts, applied to the browser.

- Listening beyond this machine (`ui.host`, `ragqa app --host`, or `streamlit run app.py --server.address`)
  needs a password (`ui.password_env`); without one the page shows the one-line refusal `ragqa serve` prints,
  and nothing else.
- With a password, the page asks for it first. It never leaves the server's environment, is compared in
  constant time, and an opened session stays open (st.session_state.authenticated) until the tab is closed.
- Without a password, the page is shown only to a browser that addressed it by a loopback name (the
  `Host` header): a web page pointing its own domain at 127.0.0.1 (DNS rebinding) is refused.
- `single_user`: on loopback with no password (one person on their own machine), the sidebar also offers a
  box to type the notes folder; it still takes only a configured notes folder.
"""
from __future__ import annotations

import hmac

import streamlit as st

from ragqa.hosts import app_bind_refusal, is_loopback, is_loopback_host_header
from ragqa.secrets import redact_secrets_in_logs, secret


def listening_on() -> str:
    """The address Streamlit listens on ('' when unset: every interface)."""
    return st.get_option("server.address") or ""


def public_refusal(settings) -> str | None:
    """The one-line refusal for an app that listens beyond this machine with no password; else None."""
    name = settings.ui.password_env
    return app_bind_refusal(listening_on(), name, has_password=secret(name) is not None)


def single_user(settings) -> bool:
    """True when the app listens on loopback and has no password: one person, on their own machine."""
    return is_loopback(listening_on()) and secret(settings.ui.password_env) is None


def host_refusal(settings) -> str | None:
    """Without a password, a browser must have addressed the app as 127.0.0.1, localhost or [::1]."""
    host = st.context.headers.get("host")
    if host is None or secret(settings.ui.password_env) is not None or is_loopback_host_header(host):
        return None  # (no header at all: not a browser, e.g. Streamlit's AppTest)
    return ("This app has no password, so it answers only at http://127.0.0.1 or http://localhost on this "
            "machine: open it there, or set ui.password_env to share it.")


def allowed_in(settings) -> bool:
    """True when this session may see the app; otherwise the refusal or the password form is drawn."""
    redact_secrets_in_logs()
    refusal = public_refusal(settings) or host_refusal(settings)
    if refusal:
        st.error(refusal)
        return False
    return require_password(settings)


def require_password(settings) -> bool:
    """True when the app is open to this session; otherwise the password form is shown."""
    name = settings.ui.password_env
    password = secret(name)
    if password is None or st.session_state.get("authenticated"):
        return True
    st.title("ragqa")
    with st.form("password"):
        entered = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open")
    if submitted:
        if hmac.compare_digest(entered.encode(), password.get_secret_value().encode()):
            st.session_state.authenticated = True
            st.rerun()
        st.error(f"Wrong password. It is the value of the environment variable {name} where ragqa was started.")
    return False
