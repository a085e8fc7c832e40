"""The browser face: streamlit_app.py is the Streamlit script (`ragqa app` runs it; the repo's app.py runs it for
`streamlit run app.py`). Alone in this folder on purpose: see streamlit_app.py."""
