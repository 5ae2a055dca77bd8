"""tools/course.py's command line: every documented command line reaches the right function with the
right arguments (the functions themselves are replaced by recorders: nothing is installed or started)."""

import json
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
    assert made[0] == ("setup", (), {**setup_kwargs, "retry_fallback": argv[0] == "setup"})
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


# --------------------------------------------------------------------------- torch: the CPU index and its fallback
class FakePip:
    """Stands in for course.run: records each command; fails the ones that use PyTorch's index when told to."""

    def __init__(self, index_reachable=True):
        self.index_reachable, self.commands = index_reachable, []

    def __call__(self, cmd, **kwargs):
        cmd = [str(c) for c in cmd]
        self.commands.append(cmd)
        if course.CPU_INDEX in cmd and not self.index_reachable:
            raise subprocess.CalledProcessError(1, cmd)


@pytest.fixture
def pip(monkeypatch):
    def make(index_reachable=True, cuda=""):
        fake = FakePip(index_reachable)
        monkeypatch.setattr(course, "run", fake)
        monkeypatch.setattr(course, "_torch_cuda", lambda py: cuda)
        return fake
    return make


def test_torch_without_cpu_comes_from_pypi_with_progress(pip):
    fake = pip()
    assert course.install_torch(PY, cpu=False) is False
    assert fake.commands == [[str(PY), "-m", "pip", "--disable-pip-version-check", "install", course.TORCH_SPEC]]
    assert "--quiet" not in fake.commands[0]  # the download can take minutes: pip shows its progress


def test_cpu_torch_comes_from_pytorchs_index_with_a_short_timeout(pip):
    fake = pip()
    assert course.install_torch(PY, cpu=True) is True
    [cmd] = fake.commands
    assert cmd[-3:] == [course.TORCH_SPEC, "--index-url", course.CPU_INDEX]
    assert cmd[cmd.index("--timeout") + 1] == "15" and cmd[cmd.index("--retries") + 1] == "1"
    assert "--force-reinstall" not in cmd


def test_unreachable_cpu_index_falls_back_to_pypi_with_one_message(pip, capsys):
    fake = pip(index_reachable=False)
    assert course.install_torch(PY, cpu=True) is False
    assert len(fake.commands) == 2 and course.CPU_INDEX in fake.commands[0]
    assert fake.commands[1] == [str(PY), "-m", "pip", "--disable-pip-version-check", "install", course.TORCH_SPEC]
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "could not be reached" in notes[0] and "from PyPI instead" in notes[0]
    assert "setup --cpu` again" in notes[0]


def test_cpu_replaces_a_cuda_build(pip, capsys):
    fake = pip(cuda="12.4")
    assert course.install_torch(PY, cpu=True) is True
    [cmd] = fake.commands
    assert "--force-reinstall" in cmd and "--no-deps" in cmd and cmd[-2:] == ["--index-url", course.CPU_INDEX]
    assert "CUDA build (CUDA 12.4)" in capsys.readouterr().out


def test_torch_cuda_reads_the_environments_build():
    import torch

    assert course._torch_cuda(Path(sys.executable)) == (torch.version.cuda or "")
    assert course._torch_cuda(Path(sys.executable).parent / "no-such-python") == ""


def test_a_fallback_setup_is_retried_by_setup_cpu_only(pip, monkeypatch, tmp_path):
    """After falling back to PyPI's torch, `lab --cpu` starts at once; `setup --cpu` tries the index again."""
    venv = tmp_path / "venv"
    monkeypatch.setattr(course, "VENV", venv)
    course.venv_python().parent.mkdir(parents=True)
    course.venv_python().write_text("")  # an existing environment (nothing runs it: pip is fake)
    fake = pip(index_reachable=False)
    course.setup(cpu=True)
    record = json.loads((venv / ".cgen-setup").read_text())
    assert record["torch_from_pypi"] is True and record["extras"] == ["dev"]
    assert (venv / "share" / "jupyter" / "lab" / "settings" / "overrides.json").exists()
    fake.commands.clear()
    course.setup(cpu=True)  # lab --cpu, test --cpu, ...: nothing to do
    assert fake.commands == []
    fake.index_reachable = True
    course.setup(cpu=True, retry_fallback=True)  # setup --cpu
    assert any(course.CPU_INDEX in cmd for cmd in fake.commands)
    assert "torch_from_pypi" not in json.loads((venv / ".cgen-setup").read_text())
    fake.commands.clear()
    course.setup(cpu=True, retry_fallback=True)  # done: nothing left to retry
    assert fake.commands == []
