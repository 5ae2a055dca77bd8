"""Articles C §5.2 and E §4.1–§4.2, their Keras listings run for real in Keras 3 on the PyTorch backend (the
optional extra ``keras``).

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

Article E's two listings leave their sizes undefined (``num_features``, ``latent_dim``, ...); we give them MNIST's.
``article_e_failures`` runs both in order; ``train_corrected_e_vae`` keeps E's LSTM encoder, reading an image as a
sequence of 28 rows of ``num_features`` = 28 pixels, and adds what makes it a VAE:

    encoder  rows x_1..x_28 → LSTM(64) → h → Dense(64, tanh) → (μ, log σ²),   z = μ + σ ⊙ ε
    decoder  z → Dense(256, ReLU) → Dense(784, sigmoid) = x̂ (all rows at once: E's emits one row)
    loss     −ELBO(x) = Σ_pixels BCE(x, x̂) + ½ Σ_j (μ_j² + σ_j² − log σ_j² − 1)

and ``train_corrected_e_gan`` keeps E's one-hidden-layer networks with the GAN losses of chapter 06:

    D step   minimise  BCE(1, D(x)) + BCE(0, D(G(z)))       (D outputs a logit: E's sigmoid is dropped)
    G step   minimise  BCE(1, D(G(z)))                      (the non-saturating loss; E's G loss never sees G)
"""

from __future__ import annotations

import os

from .errata import outcome

__all__ = ["keras_available", "import_keras", "article_c_failures", "train_corrected_c_vae", "article_e_failures",
           "train_corrected_e_vae", "train_corrected_e_gan"]


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


def _sampling(keras, seed: int):
    """A layer z = μ + σ ⊙ ε that adds the KL term ½ Σ_j (μ² + σ² − log σ² − 1), averaged over the batch, as a
    loss: what both listings' VAEs lack."""
    ops = keras.ops

    class Sampling(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.noise = keras.random.SeedGenerator(seed)

        def call(self, inputs):
            mu, log_var = inputs
            kl = 0.5 * ops.sum(ops.square(mu) + ops.exp(log_var) - log_var - 1.0, axis=-1)  # (B,)
            self.add_loss(ops.mean(kl))
            return mu + ops.exp(0.5 * log_var) * keras.random.normal(ops.shape(mu), seed=self.noise)

    return Sampling()


def _pixel_bce(keras):
    """The reconstruction term per image: Σ over the 784 pixels of the binary cross-entropy."""
    ops = keras.ops
    return lambda x, x_rec: 784 * keras.losses.binary_crossentropy(ops.reshape(x, (-1, 784)),
                                                                   ops.reshape(x_rec, (-1, 784)))


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
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    input_img, _, z_mean, z_log_var = _encoder(keras)
    z = _sampling(keras, seed)([z_mean, z_log_var])
    decoder = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(64, activation="relu"),
                                layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28, 1))])
    vae = keras.Model(input_img, decoder(z))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), loss=_pixel_bce(keras))
    history = vae.fit(x_train, x_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                      validation_data=(x_val, x_val))
    return vae, decoder, history.history


E_SIZES = {"4.1": {"num_features": 28, "latent_dim": 16, "output_dim": 64},
           "4.2": {"num_features": 784, "latent_dim": 100, "output_dim": 128, "discriminator_layers": 128}}


def article_e_failures() -> dict[str, str]:
    """Each line of article E §4.1 (the VAE) and §4.2 (the GAN) that cannot work, run in Keras 3 in the listings'
    order with the sizes of ``E_SIZES``: the line → how it ended (``outcome``). A failing line is repaired — or,
    where no repair keeps the listing's meaning, left out — so that every later failure is reached."""
    keras = import_keras()
    layers, ops = keras.layers, keras.ops
    keras.utils.set_random_seed(42)
    found = {}
    # §4.1: the "VAE" (an image is a sequence of 28 rows of num_features = 28 pixels)
    num_features, latent_dim, output_dim = E_SIZES["4.1"].values()
    encoder_input = keras.Input(shape=(None, num_features))
    encoder_outputs, state_h, state_c = layers.LSTM(latent_dim, return_state=True)(encoder_input)
    layers.Dense(num_features)(layers.Dense(latent_dim, activation="tanh")(state_h))  # E's encoder_output: unused
    generator_input = keras.Input(shape=(latent_dim,))
    generator_output = layers.Dense(num_features, activation="sigmoid")(
        layers.Dense(output_dim, activation="relu")(generator_input))
    keras.Model(encoder_input, encoder_outputs, name="encoder")  # runs
    keras.Model(generator_input, generator_output, name="generator")  # runs
    found["§4.1 binary_crossentropy(input=encoder_input, target=generator_output, from_logits=True)"] = outcome(
        lambda: keras.losses.binary_crossentropy(input=encoder_input, target=generator_output, from_logits=True),
        message=True)
    found["§4.1 the same with the arguments in place (y_true, y_pred)"] = outcome(
        lambda: keras.losses.binary_crossentropy(encoder_input, generator_output, from_logits=True), message=True)
    # repaired against the first row only, so that the next lines run
    reconstruction_loss = keras.losses.binary_crossentropy(encoder_input[:, 0], generator_output, from_logits=True)
    kl_loss = (1 + ops.sum(ops.log(ops.sum(ops.square(encoder_outputs), axis=1) + 1e-10) - 1)
               - ops.sum(ops.log(ops.sum(ops.square(encoder_input) + 1e-10, axis=1)) - 1))
    vae_loss = reconstruction_loss + kl_loss
    found["§4.1 vae_model = Model(encoder_input, vae_loss)"] = outcome(
        lambda: keras.Model(encoder_input, vae_loss), message=True)
    # §4.2: the GAN
    num_features, latent_dim, output_dim, discriminator_layers = E_SIZES["4.2"].values()
    generator_input = keras.Input(shape=(latent_dim,))
    generator_model = keras.Model(generator_input, layers.Dense(num_features, activation="tanh")(
        layers.Dense(output_dim, activation="relu")(generator_input)), name="generator")
    discriminator_input = keras.Input(shape=(num_features,))
    discriminator_output = layers.Dense(1, activation="sigmoid")(
        layers.Dense(discriminator_layers, activation="relu")(discriminator_input))
    discriminator_model = keras.Model(discriminator_input, discriminator_output, name="discriminator")
    cross_entropy = keras.losses.BinaryCrossentropy(from_logits=True)
    found["§4.2 generator_loss = cross_entropy(ones_like(discriminator_output), discriminator_output)"] = outcome(
        lambda: cross_entropy(ops.ones_like(discriminator_output), discriminator_output), message=True)
    found["§4.2 discriminator_loss = cross_entropy(ones, D) + cross_entropy(zeros, 1 - D)"] = outcome(
        lambda: cross_entropy(ops.ones_like(discriminator_output), discriminator_output)
        + cross_entropy(ops.zeros_like(discriminator_output), 1 - discriminator_output), message=True)
    optimizer = keras.optimizers.Adam(2e-4)  # `optimizer` is undefined in the listing
    images = keras.random.uniform((64, num_features), seed=0)
    discriminator_model.compile(optimizer=optimizer)  # runs; the loss tensor could not be built, so it is left out
    found["§4.2 discriminator_model.compile(optimizer, loss=<left out>); fit on 64 images"] = outcome(
        lambda: discriminator_model.fit(images, ops.ones((64, 1)), epochs=1, verbose=0), message=True)
    generator_model.compile(optimizer=optimizer)
    found["§4.2 generator_model.compile(optimizer=optimizer); fit on 64 latent vectors"] = outcome(
        lambda: generator_model.fit(keras.random.normal((64, latent_dim), seed=0), epochs=1, verbose=0),
        message=True)
    return found


def train_corrected_e_vae(x_train, x_val, *, epochs: int = 1, batch_size: int = 128, latent_dim: int = 8,
                          seed: int = 42):
    """Article E §4.1's VAE with the fewest changes that make it one (module docstring), trained by Keras' ``fit``
    on images (N, 28, 28) in [0, 1] (NumPy arrays), each read as a sequence of 28 rows. Returns (the VAE, its
    decoder, the history dict: per-epoch mean −ELBO per image in nats, ``loss`` and ``val_loss``)."""
    keras = import_keras()
    layers = keras.layers
    keras.utils.set_random_seed(seed)
    encoder_input = keras.Input(shape=(None, 28))  # (B, rows, num_features)
    _, state_h, _ = layers.LSTM(64, return_state=True)(encoder_input)
    encoder_h = layers.Dense(64, activation="tanh")(state_h)
    z = _sampling(keras, seed)([layers.Dense(latent_dim)(encoder_h), layers.Dense(latent_dim)(encoder_h)])
    decoder = keras.Sequential([keras.Input(shape=(latent_dim,)), layers.Dense(256, activation="relu"),
                                layers.Dense(784, activation="sigmoid"), layers.Reshape((28, 28))])
    vae = keras.Model(encoder_input, decoder(z))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3), loss=_pixel_bce(keras))
    history = vae.fit(x_train, x_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0,
                      validation_data=(x_val, x_val))
    return vae, decoder, history.history


def train_corrected_e_gan(x_train, *, epochs: int = 1, batch_size: int = 64, seed: int = 42):
    """Article E §4.2's GAN with the losses of chapter 06 (module docstring), trained by Keras' ``fit`` with a
    ``train_step`` written for the PyTorch backend, on flattened images (N, 784) in [−1, 1] (NumPy). Returns (the
    generator, the history dict: per-epoch mean ``d_loss`` and ``g_loss``)."""
    keras = import_keras()
    import torch

    layers, ops = keras.layers, keras.ops
    keras.utils.set_random_seed(seed)
    sizes = E_SIZES["4.2"]
    G = keras.Sequential([keras.Input(shape=(sizes["latent_dim"],)),
                          layers.Dense(sizes["output_dim"], activation="relu"),
                          layers.Dense(sizes["num_features"], activation="tanh")], name="generator")
    D = keras.Sequential([keras.Input(shape=(sizes["num_features"],)),
                          layers.Dense(sizes["discriminator_layers"], activation="relu"), layers.Dense(1)],
                         name="discriminator")  # a logit: no sigmoid before a from_logits loss
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    class GAN(keras.Model):
        def __init__(self):
            super().__init__()
            self.G, self.D, self.noise = G, D, keras.random.SeedGenerator(seed)
            self.g_opt, self.d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
            self.built = True  # G and D are built; the container itself has no call()

        def _update(self, net, optimizer, loss):  # one optimiser step on `net`'s weights only
            self.zero_grad()
            loss.backward()
            with torch.no_grad():
                optimizer.apply([w.value.grad for w in net.trainable_weights], net.trainable_weights)

        def train_step(self, x):  # x: (B, 784) real images
            z = keras.random.normal((ops.shape(x)[0], sizes["latent_dim"]), seed=self.noise)  # (B, latent)
            real, fake = self.D(x), self.D(ops.stop_gradient(self.G(z)))  # (B, 1) logits
            d_loss = bce(ops.ones_like(real), real) + bce(ops.zeros_like(fake), fake)
            self._update(self.D, self.d_opt, d_loss)
            fake = self.D(self.G(z))
            g_loss = bce(ops.ones_like(fake), fake)  # non-saturating: G wants D to say "real"
            self._update(self.G, self.g_opt, g_loss)
            return {"d_loss": d_loss, "g_loss": g_loss}

    gan = GAN()
    gan.compile()
    history = gan.fit(x_train, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    return G, history.history
