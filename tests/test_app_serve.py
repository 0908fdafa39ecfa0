"""``paysim app``: the simulator and its compiled kernels loaded before the server answers, then app.py served as
``streamlit run`` serves it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from paysim.cli import app, serve

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_app_script_is_the_one_beside_the_package() -> None:
    assert serve.APP_SCRIPT == ROOT / "app.py"


def test_without_the_app_script_it_says_where_it_looked_and_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve, "APP_SCRIPT", ROOT / "no-such-app.py")
    result = CliRunner().invoke(app, ["app", "--headless"])
    assert result.exit_code == 2
    assert "no-such-app.py is not there" in result.stderr and "pip install -e" in result.stderr


def test_a_port_out_of_range_is_refused_before_anything_loads() -> None:
    result = CliRunner().invoke(app, ["app", "--port", "70000"])
    assert result.exit_code == 2
    assert "--port" in result.stderr and "65535" in result.stderr


def test_the_server_answers_after_loading_the_simulator_and_serves_the_app() -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "paysim", "app", "--headless", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
                    assert response.read().decode().strip() == "ok"
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the server did not answer within 3 minutes"
                time.sleep(0.2)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read().lower()
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)
    # the kernels were loaded before the server started serving
    assert output.index("simulator loaded") < output.index("compiled kernels loaded") < output.index("URL:")
