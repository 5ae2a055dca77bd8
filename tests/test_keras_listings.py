"""Article C §5.2's Keras VAE in Keras 3 (PyTorch backend): each broken line fails the way chapter 12 says, and
the corrected listing learns. Skipped, saying how to install it, when the optional extra `keras` is absent."""

import pytest

from cgen_lessons import data
from cgen_lessons.keras_listings import article_c_failures, keras_available, train_corrected_c_vae

pytestmark = pytest.mark.skipif(not keras_available(), reason='Keras 3 is not installed: pip install -e ".[keras]"')


def test_each_broken_line_of_the_listing_fails_in_keras():
    kinds = [result.split(":")[0].split(",")[0] for result in article_c_failures().values()]
    assert kinds == ["TypeError", "NameError", "runs", "NotImplementedError", "ValueError", "ValueError", "NameError"]


def test_the_corrected_listing_learns():
    x = data.load_mnist("val", n=3000)[0].permute(0, 2, 3, 1).numpy()  # (3000, 28, 28, 1), channels last
    _, decoder, hist = train_corrected_c_vae(x[:2000], x[2000:], epochs=2)
    assert hist["val_loss"][1] < hist["val_loss"][0] < 784 * 0.6931  # below predicting 0.5 for every pixel
    assert decoder.predict(x[:4, :2, 0, 0], verbose=0).shape == (4, 28, 28, 1)
