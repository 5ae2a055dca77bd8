import os

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("CGEN_DEVICE", "cpu")
