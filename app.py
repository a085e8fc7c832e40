"""ragqa in the browser, for `streamlit run app.py` in a checkout (`ragqa app` does the same from anywhere, also
from an installed wheel). Safe here too: .streamlit/config.toml makes it listen on 127.0.0.1, this machine only,
and send no usage statistics. The page itself is ragqa/app/streamlit_app.py, inside the package, so that the
wheel carries it."""
from ragqa.app.streamlit_app import main

main()
