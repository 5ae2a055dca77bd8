"""Print the text outputs of an executed notebook (a reviewing aid):

    python tools/show_outputs.py notebooks/01_foundations.ipynb
"""

import sys

import nbformat

nb = nbformat.read(sys.argv[1], as_version=4)
for i, cell in enumerate(nb.cells):
    if cell.cell_type != "code":
        continue
    for out in cell.outputs:
        if out.output_type == "stream" and out.name == "stdout":
            print(f"[{i}] {out.text.rstrip()}")
        elif out.output_type == "error":
            print(f"[{i}] ERROR {out.ename}: {out.evalue}")
        elif out.output_type in ("execute_result", "display_data"):
            kinds = list(out.get("data", {}))
            text = out["data"].get("text/plain", "") if "image/png" not in kinds else "<figure>"
            print(f"[{i}] {text[:300]}")
