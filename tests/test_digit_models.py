"""benchmarks/digit_models.py: the shipped 8×8 digit models are the ones chapters 06–07's recipes train, they
reproduce the Fréchet distances the script recorded, and every name has one builder, one thread count and one
sampler."""

import pytest
import torch

from cgen_lessons import data, recipes, results
from cgen_lessons.recipes import DIGIT_CHECKPOINTS


@pytest.fixture(scope="module")
def scorer():
    return recipes.DigitScorer(data.load_digits(), progress=False)


@pytest.mark.parametrize("name", sorted(DIGIT_CHECKPOINTS))
def test_the_shipped_weights_reproduce_their_recorded_frechet_distance(name, scorer):
    if not DIGIT_CHECKPOINTS[name].is_file():
        pytest.skip(f"no shipped {DIGIT_CHECKPOINTS[name].name}: run benchmarks/digit_models.py")
    recorded = results.load("digit_models")[name]
    model, how = recipes.shipped_digit_model(name)
    assert "loaded" in how and not model.training
    fd = scorer.fd(recipes.digit_samples(model, recorded["n_samples"], seed=0))
    assert fd == pytest.approx(recorded["fd"], rel=0.02)


def test_the_checkpoints_load_with_weights_only():
    for path in DIGIT_CHECKPOINTS.values():
        if path.is_file():
            saved = torch.load(path, map_location="cpu", weights_only=True)
            assert set(saved) == {"config", "state_dict"}


def test_the_saved_configs_rebuild_the_recipes_models():
    gan = recipes.digit_gan()
    assert (gan.G.z_dim, gan.G.width) == (32, 64)
    vae = recipes.VAE(**recipes.digit_vae_config())
    assert (vae.x_dim, vae.z_dim) == (64, 8)
    diff = recipes.digit_diffusion(**recipes.digit_diffusion_config())
    assert diff.schedule.T == recipes.DIFFUSION_SETTINGS.T


def test_every_digit_model_samples_images_in_the_unit_interval():
    for model in (recipes.digit_gan(), recipes.VAE(**recipes.digit_vae_config()),
                  recipes.digit_diffusion(**recipes.digit_diffusion_config())):
        x = recipes.digit_samples(model.eval(), 3, seed=1)
        assert x.shape == (3, 1, 8, 8) and 0 <= x.min() and x.max() <= 1
        assert torch.equal(x, recipes.digit_samples(model, 3, seed=1))  # seeded


def test_bad_names_and_models_are_refused():
    with pytest.raises(ValueError, match="dcgan_lsgan"):
        recipes.shipped_digit_model("wgan")
    with pytest.raises(ValueError, match="diffusion"):
        recipes.train_digit_model("unet")
    with pytest.raises(TypeError, match="Linear"):
        recipes.digit_samples(torch.nn.Linear(2, 2), 3)
