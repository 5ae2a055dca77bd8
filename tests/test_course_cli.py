"""tools/course.py's command line: every documented command line reaches the right function with the
right arguments (the functions themselves are replaced by recorders: nothing is installed or started)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402

sys.path.pop(0)
COMMANDS = ["setup", "lab", "test", "execute", "book", "student", "doctor"]


@pytest.fixture
def calls(monkeypatch):
    """Replace every action of course.py by a recorder; returns the list of (name, args) calls."""
    record = []
    py = Path("/venv/bin/python")

    def recorder(name, result=0):
        def fn(*args, **kwargs):
            record.append((name, args, kwargs))
            return py if name == "setup" else result
        return fn

    for name in ("setup", "lab", "test", "book", "execute", "student", "doctor"):
        monkeypatch.setattr(course, name, recorder(name, [] if name == "student" else 0))
    monkeypatch.setattr(course, "venv_python", lambda: py)
    return record


def _run(calls, *argv):
    code = course.main(list(argv))
    return code, [(name, args, kwargs) for name, args, kwargs in calls]


PY = Path("/venv/bin/python")


@pytest.mark.parametrize("argv, setup_kwargs, action", [
    (["setup"], {"cpu": False, "extras": ("dev",)}, None),
    (["setup", "--cpu"], {"cpu": True, "extras": ("dev",)}, None),
    (["lab"], {"cpu": False, "extras": ("dev",)}, ("lab", (PY, []))),
    (["lab", "--cpu"], {"cpu": True, "extras": ("dev",)}, ("lab", (PY, []))),
    (["lab", "--port", "8899", "--no-browser"], {"cpu": False, "extras": ("dev",)},
     ("lab", (PY, ["--port", "8899", "--no-browser"]))),
    (["lab", "--port", "8899", "--cpu", "--ServerApp.token=x"], {"cpu": True, "extras": ("dev",)},
     ("lab", (PY, ["--port", "8899", "--ServerApp.token=x"]))),
    (["test"], {"cpu": False, "extras": ("dev", "book")}, ("test", (PY, []))),
    (["test", "tests/test_vae.py", "-x", "-k", "vae and not slow", "-p", "no:cacheprovider", "--cpu"],
     {"cpu": True, "extras": ("dev", "book")},
     ("test", (PY, ["tests/test_vae.py", "-x", "-k", "vae and not slow", "-p", "no:cacheprovider"]))),
    (["test", "--durations=5", "--co"], {"cpu": False, "extras": ("dev", "book")},
     ("test", (PY, ["--durations=5", "--co"]))),
    (["execute"], {"cpu": False, "extras": ("dev",)}, ("execute", (PY, []))),
    (["execute", "03"], {"cpu": False, "extras": ("dev",)}, ("execute", (PY, ["03"]))),
    (["execute", "--cpu", "01", "04_decoding"], {"cpu": True, "extras": ("dev",)},
     ("execute", (PY, ["01", "04_decoding"]))),
    (["book"], {"cpu": False, "extras": ("dev", "book")}, ("book", (PY, []))),
    (["book", "/tmp/out"], {"cpu": False, "extras": ("dev", "book")}, ("book", (PY, ["/tmp/out"]))),
])
def test_commands_that_set_up_first(calls, argv, setup_kwargs, action):
    code, made = _run(calls, *argv)
    assert code == 0
    assert made[0] == ("setup", (), setup_kwargs)
    assert made[1:] == ([(action[0], action[1], {})] if action else [])


def test_student_and_doctor_install_nothing(calls):
    assert _run(calls, "doctor")[1] == [("doctor", (PY,), {})]
    calls.clear()
    _run(calls, "student", "04")
    assert [c[0] for c in calls] == ["student"] and calls[0][1][0] == ["04"]
    calls.clear()
    _run(calls, "student", "--cpu")  # --cpu is accepted by every command
    assert [c[0] for c in calls] == ["student"] and calls[0][1][0] == []


@pytest.mark.parametrize("argv", [["execute", "03", "--port", "1"], ["doctor", "--foo"], ["book", "a", "b"],
                                  ["bogus"], ["setup", "extra"]])
def test_unknown_arguments_are_refused_where_nothing_passes_them_on(calls, argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        course.main(argv)
    assert exit_.value.code == 2 and calls == []
    assert "error:" in capsys.readouterr().err


def test_no_command_prints_the_help(calls, capsys):
    assert course.main([]) == 2 and calls == []
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_every_command_has_help():
    """`--help` of each subcommand, through the real script (nothing is set up)."""
    tool = [sys.executable, str(ROOT / "tools" / "course.py")]
    top = subprocess.run(tool + ["--help"], capture_output=True, text=True, timeout=60)
    assert top.returncode == 0 and all(name in top.stdout for name in COMMANDS)
    for name in COMMANDS:
        run = subprocess.run(tool + [name, "--help"], capture_output=True, text=True, timeout=60)
        assert run.returncode == 0 and f"course.py {name}" in run.stdout, name
        assert len(run.stdout.split("\n\n")[1]) > 40, name  # a description, not just the usage line
    assert "JUPYTERLAB ARGUMENT" in subprocess.run(tool + ["lab", "-h"], capture_output=True, text=True).stdout
    assert "PYTEST ARGUMENT" in subprocess.run(tool + ["test", "-h"], capture_output=True, text=True).stdout
