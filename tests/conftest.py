import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("CGEN_DEVICE", "cpu")


def load_benchmark(name: str):
    """benchmarks/<name>.py as a module (registered in sys.modules: its dataclasses need that)."""
    import importlib.util
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, script)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_jupyter(cmd: list[str], root, scratch, token: str, env: dict):
    """Start a Jupyter server (``cmd``, already holding its port and ``token``) in ``root``, with its runtime,
    config and data folders under ``scratch``; a context manager that yields the base URL once the server answers
    and stops it afterwards. Skips the calling test, with the server's log, when it does not start in 90 s."""
    import contextlib
    import subprocess
    import time
    import urllib.error
    import urllib.request

    import pytest

    port = next(a.split("=")[1] for a in cmd if a.startswith("--ServerApp.port="))
    env = {**env, "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"), "JUPYTER_CONFIG_DIR": str(scratch / "config"),
           "JUPYTER_DATA_DIR": str(scratch / "data")}

    @contextlib.contextmanager
    def running():
        log = scratch / "server.log"
        with open(log, "w") as out:
            server = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
        base = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.time() + 90
            while True:
                if server.poll() is not None:
                    pytest.skip(f"jupyter server did not start (exit {server.returncode}): {log.read_text()[-500:]}")
                try:
                    request = urllib.request.Request(base + "api/status", headers={"Authorization": f"token {token}"})
                    urllib.request.urlopen(request, timeout=30).close()
                    break
                except (urllib.error.URLError, ConnectionError, OSError):
                    if time.time() > deadline:
                        pytest.skip(f"jupyter server did not answer in 90 s: {log.read_text()[-500:]}")
                    time.sleep(0.5)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()

    return running()
