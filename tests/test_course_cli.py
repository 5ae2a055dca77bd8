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
    (["lab"], {"cpu": False, "extras": ("dev",)}, ("lab", (PY, []), {"student_copies": False, "lang": "en"})),
    (["lab", "--cpu"], {"cpu": True, "extras": ("dev",)}, ("lab", (PY, []), {"student_copies": False, "lang": "en"})),
    (["lab", "--port", "8899", "--no-browser"], {"cpu": False, "extras": ("dev",)},
     ("lab", (PY, ["--port", "8899", "--no-browser"]), {"student_copies": False, "lang": "en"})),
    (["lab", "--port", "8899", "--cpu", "--ServerApp.token=x", "--student"], {"cpu": True, "extras": ("dev",)},
     ("lab", (PY, ["--port", "8899", "--ServerApp.token=x"]), {"student_copies": True, "lang": "en"})),
    (["test"], {"cpu": False, "extras": ("dev", "book", "keras")}, ("test", (PY, []))),
    (["test", "tests/test_vae.py", "-x", "-k", "vae and not slow", "-p", "no:cacheprovider", "--cpu"],
     {"cpu": True, "extras": ("dev", "book", "keras")},
     ("test", (PY, ["tests/test_vae.py", "-x", "-k", "vae and not slow", "-p", "no:cacheprovider"]))),
    (["test", "--durations=5", "--co"], {"cpu": False, "extras": ("dev", "book", "keras")},
     ("test", (PY, ["--durations=5", "--co"]))),
    (["execute"], {"cpu": False, "extras": ("dev",)}, ("execute", (PY, []))),
    (["execute", "03"], {"cpu": False, "extras": ("dev",)}, ("execute", (PY, ["03"]))),
    (["execute", "--cpu", "01", "04_decoding"], {"cpu": True, "extras": ("dev",)},
     ("execute", (PY, ["01", "04_decoding"]))),
    (["book"], {"cpu": False, "extras": ("dev", "book")}, ("book", (PY, []), {"lang": "en"})),
    (["book", "/tmp/out"], {"cpu": False, "extras": ("dev", "book")}, ("book", (PY, ["/tmp/out"]), {"lang": "en"})),
    (["book", "--lang", "zh"], {"cpu": False, "extras": ("dev", "book")}, ("book", (PY, []), {"lang": "zh"})),
    (["lab", "--lang", "zh", "--student"], {"cpu": False, "extras": ("dev",)},
     ("lab", (PY, []), {"student_copies": True, "lang": "zh"})),
])
def test_commands_that_set_up_first(calls, argv, setup_kwargs, action):
    code, made = _run(calls, *argv)
    assert code == 0
    assert made[0] == ("setup", (), {**setup_kwargs, "retry_fallback": argv[0] == "setup"})
    assert made[1:] == ([(action[0], action[1], action[2] if len(action) > 2 else {})] if action else [])


def test_student_and_doctor_install_nothing(calls):
    assert _run(calls, "doctor")[1] == [("doctor", (PY,), {})]
    calls.clear()
    _run(calls, "student", "04")
    assert calls == [("student", (["04"],), {"force": False, "lang": "en"})]
    calls.clear()
    _run(calls, "student", "--cpu", "--force")  # --cpu is accepted by every command
    assert calls == [("student", ([],), {"force": True, "lang": "en"})]
    calls.clear()
    _run(calls, "student", "--lang", "zh", "05")
    assert calls == [("student", (["05"],), {"force": False, "lang": "zh"})]


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


def test_torch_without_cpu_comes_from_pypi_with_progress(pip, monkeypatch):
    fake = pip()
    assert course.install_torch(PY, cpu=False) is False
    assert fake.commands == [[str(PY), "-m", "pip", "--disable-pip-version-check", "install", course.TORCH_SPEC]]
    assert "--quiet" not in fake.commands[0]  # the download can take minutes: pip shows its progress
    monkeypatch.setattr(course, "_torch_installed", lambda py: True)
    fake.commands.clear()
    course.install_torch(PY, cpu=False)  # a re-run with torch in place: nothing to show
    assert "--quiet" in fake.commands[0]


def test_torch_installed_looks_in_the_environment_of_its_python():
    assert course._torch_installed(Path(sys.executable)) and not course._torch_installed(PY)


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
    assert "--quiet" not in cmd  # a download: progress shown
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


# --------------------------------------------------------------------------- student copies and the Lab
def test_student_keeps_edited_copies_unless_forced(tmp_path, capsys):
    out = tmp_path / "student"
    [copy] = course.student(["00"], out)
    said = capsys.readouterr().out
    assert "wrote 1 student notebook to" in said and "notebooks" not in said.split(" to ")[0]
    assert "lab --student" in said and "../student" not in said
    assert (out / "jupytext.toml").read_text().strip().endswith('formats = "ipynb"')
    original = copy.read_text(encoding="utf-8")

    assert course.student(["00"], out) == [copy]  # unchanged: nothing to write, nothing refused
    assert "wrote 0 student notebooks (1 already up to date)" in capsys.readouterr().out

    edited = original.replace("raise NotImplementedError()", "return 42", 1)
    copy.write_text(edited, encoding="utf-8")  # a participant's work
    assert course.student(["00"], out) == []
    said = capsys.readouterr()
    assert "kept 1 edited copy unchanged (00_preface.ipynb)" in said.err and "--force" in said.err
    assert copy.read_text(encoding="utf-8") == edited

    assert course.student(["00"], out, force=True) == [copy]
    assert copy.read_text(encoding="utf-8") == original
    [backup] = out.glob("00_preface.edited-*.ipynb")
    assert backup.read_text(encoding="utf-8") == edited
    assert f"an edited copy was kept as {backup.name}" in capsys.readouterr().out


def test_student_replaces_an_outdated_copy_nobody_edited(tmp_path, capsys):
    """A copy exactly as this command last wrote it is replaced when the chapter changed."""
    out = tmp_path / "student"
    [copy] = course.student(["00"], out)
    stale = copy.read_text(encoding="utf-8").replace("Preface", "Old preface")
    copy.write_text(stale, encoding="utf-8")
    record = json.loads((out / course.STUDENT_RECORD).read_text())
    record[copy.name] = course.hashlib.sha256(stale.encode()).hexdigest()  # as if this command had written it
    (out / course.STUDENT_RECORD).write_text(json.dumps(record))
    assert course.student(["00"], out) == [copy] and "Old preface" not in copy.read_text(encoding="utf-8")
    assert not list(out.glob("*.edited-*"))


def test_student_command_exits_1_when_it_kept_an_edited_copy(tmp_path, monkeypatch):
    out = tmp_path / "student"
    monkeypatch.setattr(course, "STUDENT_DIR", out)
    monkeypatch.setattr(course.student, "__defaults__", (out, False, "en"))
    assert course.main(["student", "00"]) == 0
    (out / "00_preface.ipynb").write_text("{}", encoding="utf-8")
    assert course.main(["student", "00"]) == 1
    assert course.main(["student", "00", "--force"]) == 0


def test_lab_serves_the_repository_and_opens_at_notebooks_or_student():
    cmd = course.lab_command(PY, ["--no-browser"])
    assert course.LAB_ROOT == ROOT and (ROOT / "pyproject.toml").exists()  # where [tool.jupytext] is found
    assert cmd[:3] == [str(PY), "-m", "jupyterlab"] and "--LabApp.default_url=/lab/tree/notebooks" in cmd
    assert "--no-browser" in cmd
    assert "--LabApp.default_url=/lab/tree/student" in course.lab_command(PY, [], student=True)
    own = course.lab_command(PY, ["--ServerApp.root_dir=/tmp"])
    assert not any("default_url" in a for a in own)  # a root chosen by the user is left alone


def test_lab_passes_sigterm_on_to_jupyterlab(tmp_path):
    """`kill -TERM` of `course.py lab` stops JupyterLab too (here a stand-in that records the signal)."""
    import signal
    import time

    if not hasattr(signal, "SIGTERM") or sys.platform == "win32":
        pytest.skip("POSIX signals only")
    fake = tmp_path / "python"
    fake.write_text(f"#!/bin/sh\necho $$ > {tmp_path}/pid\ntrap 'echo TERM > {tmp_path}/term; exit 0' TERM\n"
                    "while true; do sleep 0.1; done\n")
    fake.chmod(0o755)
    program = (f"import sys; sys.path.insert(0, {str(ROOT / 'tools')!r}); import course; "
               f"from pathlib import Path; sys.exit(course.lab(Path({str(fake)!r}), []))")
    runner = subprocess.Popen([sys.executable, "-c", program],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 30
        while not (tmp_path / "pid").exists() and time.time() < deadline:
            time.sleep(0.1)
        assert (tmp_path / "pid").exists(), "the stand-in never started"
        time.sleep(0.3)  # the handler is installed right after the child starts
        runner.send_signal(signal.SIGTERM)
        assert runner.wait(timeout=20) == 0, runner.stdout.read()
        assert (tmp_path / "term").read_text().strip() == "TERM"
    finally:
        if runner.poll() is None:
            runner.kill()


def test_lab_settings_open_py_twins_as_notebooks_and_ask_nothing_about_news():
    assert course.LAB_OVERRIDES["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]["python"] == \
        "Jupytext Notebook"
    notification = course.LAB_OVERRIDES["@jupyterlab/apputils-extension:notification"]
    schema = Path(sys.prefix) / "share/jupyter/lab/schemas/@jupyterlab/apputils-extension/notification.json"
    if schema.exists():  # the keys and values are JupyterLab's own
        properties = json.loads(schema.read_text())["properties"]
        assert notification["fetchNews"] in [c["const"] for c in properties["fetchNews"]["oneOf"]]
        assert set(notification) <= set(properties)
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
