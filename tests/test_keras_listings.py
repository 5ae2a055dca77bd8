"""Articles C §5.2 and E §4.1–§4.2 in Keras 3 (PyTorch backend): each broken line fails the way chapter 12 says, and
the corrected listings learn. Skipped, saying how to install it, when the optional extra `keras` is absent."""

import numpy as np
import pytest

from cgen_lessons import data
from cgen_lessons.keras_listings import (
    article_c_failures,
    article_e_failures,
    keras_available,
    train_corrected_c_vae,
    train_corrected_e_gan,
    train_corrected_e_vae,
)

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


def test_each_broken_line_of_article_e_fails_in_keras():
    results = list(article_e_failures().values())
    kinds = [result.split(":")[0] for result in results]
    assert kinds == ["TypeError", "ValueError", "ValueError", "TypeError", "TypeError", "ValueError", "ValueError"]
    assert "same shape" in results[1] and "not connected" in results[2]  # one row vs 28; two unconnected networks
    assert all("No loss to compute" in r for r in results[5:])


def test_the_corrected_article_e_listings_learn():
    x = data.load_mnist("val", n=2500)[0]  # (2500, 1, 28, 28) in [0, 1]
    _, decoder, hist = train_corrected_e_vae(x[:2000, 0].numpy(), x[2000:, 0].numpy(), epochs=2)
    assert hist["val_loss"][1] < hist["val_loss"][0] < 784 * 0.6931  # below predicting 0.5 for every pixel
    assert decoder.output_shape == (None, 28, 28)  # every row, not E's one
    generator, gan_hist = train_corrected_e_gan((2 * x[:640] - 1).flatten(1).numpy(), epochs=1)
    assert generator.output_shape == (None, 784)
    assert np.isfinite(gan_hist["d_loss"][0]) and 0.3 < gan_hist["d_loss"][0]  # D does not win outright at once
