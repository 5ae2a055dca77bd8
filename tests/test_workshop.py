"""The workshop kit: student copies without solutions that still run, the doctor, the instructor guide."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from cgen_lessons import exercises

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import course  # noqa: E402

sys.path.pop(0)
CHAPTERS = sorted(ROOT.glob("notebooks/[0-9][0-9]_*.ipynb"))
GUIDE = ROOT / "notebooks" / "instructor_guide.md"


def _source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _solution_lines(nb):
    """The non-trivial lines inside every solution region of a chapter."""
    lines = []
    for cell in nb["cells"]:
        inside = False
        for line in _source(cell).split("\n"):
            if line.strip() == course.SOLUTION_BEGIN:
                inside = True
            elif line.strip() == course.SOLUTION_END:
                inside = False
            elif inside and len(line.strip()) > 12:
                lines.append(line.strip())
    return lines


@pytest.fixture(scope="module")
def students(tmp_path_factory):
    out = ROOT / "student"  # the real target: the copies read ../benchmarks like the chapters
    paths = course.student([], out, force=True)  # copies edited by hand are kept as *.edited-*.ipynb
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in paths}


def test_every_chapter_marks_its_solutions_and_grading_cells():
    for path in CHAPTERS:
        nb = json.loads(path.read_text(encoding="utf-8"))
        graded = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("grade")]
        solutions = [c for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")]
        assert len(solutions) >= 3 and len(graded) == len(solutions), path.name
        assert all(course.SOLUTION_BEGIN in _source(c) for c in solutions)
        assert all(_source(c).startswith("# NBVAL_CHECK_OUTPUT") and "check(" in _source(c) for c in graded)
        assert all("✓" in json.dumps(c["outputs"], ensure_ascii=False) for c in graded), path.name  # solutions pass


def test_student_copies_contain_no_solution_text(students):
    for path in CHAPTERS:
        original = json.loads(path.read_text(encoding="utf-8"))
        copy = students[path.stem]
        text = "\n".join(_source(c) for c in copy["cells"])
        assert course.SOLUTION_BEGIN not in text and "raise NotImplementedError()" in text
        outside = "\n".join(course._strip_solutions(_source(c)) for c in original["cells"])  # e.g. a demo's naive code
        leaked = [line for line in _solution_lines(original) if line in text and line not in outside]
        assert not leaked, f"{path.name}: {leaked[:3]}"
        assert len(copy["cells"]) == len(original["cells"])  # nothing else removed
        kept = [c for c, o in zip(copy["cells"], original["cells"]) if c == o]
        assert len(kept) >= len(original["cells"]) - 3 * len(exercises.exercises_of(path.name[:2])) - 2


def test_strip_solutions_keeps_indentation_and_refuses_open_regions():
    src = "def f(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\ncheck('a', f)"
    assert course._strip_solutions(src) == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\n"
                                            "check('a', f)")
    with pytest.raises(ValueError, match="not closed"):
        course._strip_solutions("### BEGIN SOLUTION\nx = 1")


def test_every_student_exercise_fails_softly(students):
    """Each chapter's exercise cells, run as a student would run them: every check says 'not attempted yet'."""
    for stem, nb in students.items():
        cells = [_source(c) for c in nb["cells"] if c.get("metadata", {}).get("nbgrader")]
        program = "import math, torch\nresults = []\n" + "\n".join(
            re.sub(r"^check\((.*)\)$", r"results.append(check(\1))", c, flags=re.M) for c in cells)
        namespace = {}
        exec(compile(program, stem, "exec"), namespace)
        results = namespace["results"]
        assert len(results) >= 3 and all(not r.passed and "not attempted yet" in r.message for r in results), stem


def test_two_student_notebooks_run_top_to_bottom_under_nbval(students):
    env = course.course_env()
    env["CGEN_DEVICE"] = "cpu"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--nbval-current-env",
           "--nbval-sanitize-with", str(ROOT / "tests" / "nbval_sanitize.cfg"),
           str(ROOT / "student" / "00_preface.ipynb"), str(ROOT / "student" / "12_errata.ipynb")]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:]


def test_doctor_passes_here_and_reports_a_missing_dependency(tmp_path):
    tool = [sys.executable, str(ROOT / "tools" / "course.py"), "doctor"]
    here = subprocess.run(tool, capture_output=True, text=True, timeout=120)
    assert here.returncode == 0 and "ready for the workshop" in here.stdout, here.stdout
    bare = tmp_path / "bare"  # an environment without the course's packages
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    broken = subprocess.run(tool, capture_output=True, text=True, timeout=120,
                            env={**course.course_env(), "CGEN_VENV": str(bare)})
    assert broken.returncode == 1
    assert "✗ packages: missing: torch" in broken.stdout
    assert "fix: python3 tools/course.py setup" in broken.stdout and "problem(s) to fix" in broken.stdout


def test_instructor_guide_lists_the_registered_exercises_and_is_linked():
    guide = GUIDE.read_text(encoding="utf-8")
    assert guide.rstrip().endswith(exercises.table_markdown())
    for ch in sorted({p.name[:2] for p in CHAPTERS}):
        found = exercises.exercises_of(ch)
        row = re.search(rf"^\| {ch} \| [^|]+ \| ≈ \d+ s \| (\d+) \((\d+)\) \|$", guide, flags=re.M)
        assert row and int(row[1]) == len(found) and int(row[2]) == sum(e.minutes for e in found), ch
    assert "notebooks/instructor_guide.md" in (ROOT / "README.md").read_text(encoding="utf-8")
