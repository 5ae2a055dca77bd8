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
