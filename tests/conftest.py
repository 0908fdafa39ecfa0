"""Shared pytest set-up: test markers used by more than one file."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "browser: drives the Streamlit app in headless Chromium (needs /usr/bin/chromium; .ci/install-browser)",
    )
