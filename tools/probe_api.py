"""Count how the public API answers malformed input (the contract in tests/api_cases.py).

    python3 tools/probe_api.py            # counts, then every case that is not a clear error
    python3 tools/probe_api.py --quiet    # counts only

Each case is one public function called with one bad argument. "clear": the package raised a
ValueError/TypeError itself; "silent": it returned a result; "obscure": any other error, or one
raised from inside torch. Run it with PYTHONPATH pointing at another checkout's package to compare.
"""

import argparse
import collections
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quiet", action="store_true", help="print the counts only")
    args = parser.parse_args()
    import api_cases
    import torch

    warnings.simplefilter("ignore")
    counts, bad, absent = collections.Counter(), [], set()
    for api, arg, desc, value in api_cases.cases():
        try:  # a function this checkout does not have (when probing an older one) is left out
            api.call(**api.valid(2, torch.float32))
        except Exception:  # noqa: BLE001
            absent.add(api.name)
            continue
        kind, message = api_cases.outcome(api, arg, value)
        counts[kind] += 1
        if kind != "clear":
            bad.append(f"{kind:8s} {api.name}({arg}={desc}) {message}")
    total = sum(counts.values())
    print(f"{total} cases over {len(api_cases.APIS) - len(absent)} functions: " +
          ", ".join(f"{k} {counts[k]} ({counts[k] / total:.0%})" for k in ("clear", "silent", "obscure")))
    if absent:
        print(f"left out (no valid call in this checkout): {', '.join(sorted(absent))}")
    if not args.quiet:
        print("\n".join(bad))
    return 0


if __name__ == "__main__":
    sys.exit(main())
