"""The optional password gate: with `ui.password_env` set, the app asks for that variable's value first.

The secret never leaves the server's environment; it is compared in constant time, and an opened
session stays open (st.session_state.authenticated) until the browser tab is closed.
"""
from __future__ import annotations

import hmac
import os

import streamlit as st


def require_password(settings) -> bool:
    """True when the app is open to this session; otherwise the password form is shown."""
    name = settings.ui.password_env
    secret = os.environ.get(name) if name else None
    if not secret or st.session_state.get("authenticated"):
        return True
    st.title("ragqa")
    with st.form("password"):
        entered = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Open")
    if submitted:
        if hmac.compare_digest(entered.encode(), secret.encode()):
            st.session_state.authenticated = True
            st.rerun()
        st.error(f"Wrong password. It is the value of the environment variable {name} where ragqa was started.")
    return False
