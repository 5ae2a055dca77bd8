"""Article C §5.2's Keras VAE, run for real in Keras 3 on the PyTorch backend (the optional extra ``keras``).

The listing is written for ``tensorflow.keras``. Keras 3 runs the same API on PyTorch
(``KERAS_BACKEND=torch``; no TensorFlow), so our transcription changes names only: ``tf.keras.X`` →
``keras.X``, the ``tf.*`` tensor functions → ``keras.ops.*``, ``tf.keras.backend.random_normal`` →
``keras.random.normal``. ``article_c_failures`` runs the listing's lines in order and reports how each one that
cannot work ends; ``train_corrected_c_vae`` trains the listing with the fewest changes that make it a VAE:

    encoder  x (28×28) → Dense(64, ReLU) → (μ, log σ²) ∈ R² × R²,   z = μ + σ ⊙ ε,  ε ~ N(0, I)
    decoder  z → Dense(64, ReLU) → Dense(784, sigmoid) = x̂
    loss     −ELBO(x) = Σ_pixels BCE(x, x̂) + ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1)

(the listing averages a squared error over the 784 pixels and adds the KL summed over the latent: a weighting
that lets the KL win, chapter 05 §9).
"""

from __future__ import annotations

import os

from .errata import outcome

__all__ = ["keras_available", "import_keras", "article_c_failures", "train_corrected_c_vae"]


def keras_available() -> bool:
    """Whether Keras 3 is installed (``pip install -e ".[keras]"``)."""
    import importlib.util

    return importlib.util.find_spec("keras") is not None


def import_keras():
    """``keras`` on the PyTorch backend, or ImportError saying how to install it."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    try:
        import keras
    except ImportError:
        raise ImportError('Keras 3 is not installed: pip install -e ".[keras]" (it runs on PyTorch, no TensorFlow)') \
            from None
    if keras.backend.backend() != "torch":
        raise ImportError(f"Keras runs on the {keras.backend.backend()!r} backend; set KERAS_BACKEND=torch before "
                          "importing it")
    return keras


def _encoder(keras):
    """The listing's encoder, line for line: image → Flatten → Dense(64, ReLU) → z_mean, z_log_var (latent 2)."""
    layers = keras.layers
    input_img = keras.Input(shape=(28, 28, 1))
    x = layers.Flatten()(input_img)
    x = layers.Dense(64, activation="relu")(x)
    return input_img, x, layers.Dense(2)(x), layers.Dense(2)(x)


def article_c_failures() -> dict[str, str]:
    """Each line of article C §5.2 that cannot work, run in Keras 3 in the listing's order: the line → how it
    ended (``outcome``). A failing line is repaired before the next runs — or, for ``add_loss``, which Keras 3
    cannot do on a functional model, left out — so that every later failure is reached. Lines that need images
    get 32 uniform random ones (they fail before the values matter)."""
    keras = import_keras()
    layers, ops = keras.layers, keras.ops
    keras.utils.set_random_seed(42)
    input_img, x, z_mean, z_log_var = _encoder(keras)
    found = {}

    def unpack_model():
        z_mean_, z_log_var_ = keras.Model(inputs=input_img, outputs=[z_mean, z_log_var])

    found["z_mean, z_log_var = keras.Model(inputs=input_img, ...)"] = outcome(unpack_model, message=True)

    def sampling(args):  # the listing's, with keras.ops and keras.random for tf
        z_mean, z_log_var = args
        epsilon = keras.random.normal(shape=(ops.shape(z_mean)[0], ops.shape(z_mean)[1]))
        return z_mean + ops.sqrt(ops.exp(z_log_var)) * epsilon

    z = layers.Lambda(sampling)([z_mean, z_log_var])  # runs
    found["x_rec.mean = Dense(64, activation='relu')(z)"] = outcome(
        lambda: exec("x_rec.mean = Dense(64, activation='relu')(z)", {"Dense": layers.Dense, "z": z}), message=True)
    x_rec = layers.Reshape((28, 28, 1))(layers.Dense(784, activation="sigmoid")(
        layers.Dense(64, activation="relu")(z)))  # with `x_rec.mean` renamed
    vae = keras.Model(inputs=input_img, outputs=[z_mean, z_log_var, x_rec])
    squared = ops.square(x - x_rec)  # the listing's `x` is the 64-unit hidden layer by now
    found[f"tf.square(x - x_rec): x {tuple(x.shape)}, x_rec {tuple(x_rec.shape)}"] = \
        f"runs, broadcasting to {tuple(squared.shape)}"
    images = keras.random.uniform((32, 28, 28, 1), seed=0)
    found["the same on a batch of 16 images"] = outcome(
        lambda: keras.Model(input_img, squared).predict(images[:16], verbose=0), message=True)
    found["vae.add_loss(vae_loss(x, x_rec, z_mean, z_log_var))"] = outcome(
        lambda: vae.add_loss(ops.mean(squared)), message=True)
    vae.compile(optimizer="adam")
    found["vae.compile(optimizer='adam'); vae.fit(x_train, ...) without the loss"] = outcome(
        lambda: vae.fit(images, epochs=1, batch_size=16, verbose=0), message=True)
    found["vae.predict(np.random.normal(size=(10, 2)))"] = outcome(
        lambda: vae.predict(keras.random.normal((10, 2), seed=0), verbose=0), message=True)
    found["for i in range(num_images)"] = outcome(lambda: exec("for i in range(num_images): pass", {}),
                                                  message=True)
    return found


def train_corrected_c_vae(x_train, x_val, *, epochs: int = 1, batch_size: int = 128, seed: int = 42):
    """Article C §5.2's VAE with the fewest changes that make it one (module docstring): trained by Keras'
    ``fit`` on images (N, 28, 28, 1) in [0, 1] (NumPy arrays). Returns (the VAE, its decoder, the history
    dict: per-epoch mean −ELBO per image in nats, ``loss`` on training and ``val_loss`` on ``x_val``)."""
    keras = import_keras()
    layers, ops = keras.layers, keras.ops
    keras.utils.set_random_seed(seed)

    class Sampling(layers.Layer):
        """z = μ + σ ⊙ ε; adds the KL term ½ Σ_j (μ² + σ² − log σ² − 1), averaged over the batch, as a loss."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.noise = keras.random.SeedGenerator(seed)

        def call(self, inputs):
            mu, log_var = inputs
            kl = 0.5 * ops.sum(ops.square(mu) + ops.exp(log_var) - log_var - 1.0, axis=-1)  # (B,)
            self.add_loss(ops.mean(kl))
            return mu + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mu), seed=self.noise)

    input_img, _, z_mean, z_log_var = _encoder(keras)
    z = Sampling()([z_mean, z_log_var])
    decoder = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(64, activation="relu"),
                                layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28, 1))])
    vae = keras.Model(input_img, decoder(z))

    def reconstruction(x, x_rec):  # Σ over the 784 pixels of the binary cross-entropy, per image
        return 784 * keras.losses.binary_crossentropy(ops.reshape(x, (-1, 784)), ops.reshape(x_rec, (-1, 784)))

    vae.compile(optimizer=keras.optimizers.Adam(1e-3), loss=reconstruction)
    history = vae.fit(x_train, x_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                      validation_data=(x_val, x_val))
    return vae, decoder, history.history
