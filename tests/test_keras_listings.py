"""Article C §5.2's Keras VAE in Keras 3 (PyTorch backend): each broken line fails the way chapter 12 says, and
the corrected listing learns. Skipped, saying how to install it, when the optional extra `keras` is absent."""

import numpy as np
import pytest

from cgen_lessons import data
from cgen_lessons.keras_listings import article_c_failures, keras_available, train_corrected_c_vae

pytestmark = pytest.mark.skipif(not keras_available(), reason='Keras 3 is not installed: pip install -e ".[keras]"')


def test_each_broken_line_of_the_listing_fails_in_keras():
    results = list(article_c_failures().values())
    kinds = [result.split(":")[0].split(",")[0] for result in results]
    assert kinds == ["TypeError", "NameError", "runs", "RuntimeError", "NotImplementedError", "ValueError",
                     "ValueError", "NameError"]
    assert "(None, 28, 28, 64)" in results[2]  # the hidden layer broadcast against an image


def test_the_corrected_listing_learns():
    x = data.load_mnist("val", n=3000)[0].permute(0, 2, 3, 1).numpy()  # (3000, 28, 28, 1), channels last
    _, decoder, hist = train_corrected_c_vae(x[:2000], x[2000:], epochs=2)
    assert hist["val_loss"][1] < hist["val_loss"][0] < 784 * 0.6931  # below predicting 0.5 for every pixel
    corners = decoder.predict(np.array([[-2.0, -2.0], [2.0, 2.0]], dtype="float32"), verbose=0)  # (2, 28, 28, 1)
    assert abs(corners[0] - corners[1]).mean() > 0.05  # the decoder uses z: no posterior collapse
