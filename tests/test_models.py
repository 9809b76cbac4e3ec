import subprocess
import sys

import pytest
import torch
from torch.nn import functional as F

from aecli.data import DataSpec
from aecli.data.base import DIGITS
from aecli.errors import UsageError
from aecli.models import MODELS, create_model
from aecli.models.base import BernoulliNLL, bernoulli_nll
from aecli.models.layers import SubpixelConvTranspose2d, tap_patterns, with_label_maps

DIGIT_SPEC = DataSpec("digits", channels=1, image_size=28, class_names=DIGITS)


def build(name):
    if name == "ae":
        return create_model(name, DataSpec("faces", channels=3, image_size=64), latent_dim=16)
    return create_model(name, DIGIT_SPEC)


@pytest.mark.parametrize("name", MODELS.names())
def test_shapes_and_ranges(name):
    model = build(name)
    c, s = model.config.channels, model.config.image_size
    x, y = torch.rand(5, c, s, s), torch.randint(10, (5,))
    z = model.encode(x, y)
    assert z.shape == (5, model.config.latent_dim)
    out = model.decode(z, y)
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    loss = model.loss(x, y)
    assert loss.shape == (5,) and torch.isfinite(loss).all() and (loss > 0).all()


def test_vae_loss_is_bce_plus_kl_in_nats():
    model = create_model("vae", prior_components=0).eval()  # the standard normal: the KL in closed form
    x = torch.rand(3, 1, 28, 28)
    torch.manual_seed(1)
    loss = model.loss(x)
    torch.manual_seed(1)
    mu, logvar = model.encode_distribution(x)
    z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
    bce = F.binary_cross_entropy(torch.sigmoid(model.decode_logits(z)), x, reduction="none").sum((1, 2, 3))
    kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=1)
    assert torch.allclose(loss, bce + kl, rtol=1e-4)


def test_the_kl_weight_rises_over_the_warmup_and_the_test_loss_keeps_the_whole_kl():
    model = create_model("cvae", DIGIT_SPEC, kl_warmup=0.5).eval()
    x, y = torch.rand(3, 1, 28, 28), torch.tensor([1, 2, 3])
    torch.manual_seed(1)
    reconstruction, kl = model.elbo_terms(x, y)
    for progress, weight in [(0.0, 0.0), (0.25, 0.5), (0.5, 1.0), (0.9, 1.0)]:
        model.progress = progress
        torch.manual_seed(1)
        assert torch.allclose(model.loss(x, y), reconstruction + weight * kl)
        torch.manual_seed(1)
        assert torch.allclose(model.test_loss(x, y), reconstruction + kl)
    assert create_model("cvae", DIGIT_SPEC).config.kl_warmup == 0  # on MNIST a warm-up costs FID (decisions.md)


@pytest.mark.parametrize("name", ["vae", "cvae"])
def test_the_iwae_objective_is_the_importance_bound_that_eval_reports(name):
    model = create_model(name, DIGIT_SPEC, iwae_samples=5).eval()
    x, y = torch.rand(4, 1, 28, 28), model.labels_for(torch.tensor([0, 1, 2, 3]))
    torch.manual_seed(3)
    trained_on = model.loss(x, y)
    bound = model.importance_nll(x, y, 5, torch.Generator().manual_seed(3))  # the same five draws
    assert torch.allclose(trained_on, bound, rtol=1e-5)
    torch.manual_seed(4)
    reconstruction, kl = model.elbo_terms(x, y)
    torch.manual_seed(4)
    assert torch.allclose(model.test_loss(x, y), reconstruction + kl)  # test figures stay the -ELBO
    # tighter than the ELBO: over many draws, the 5-sample bound lies below the one-sample one
    torch.manual_seed(5)
    with torch.no_grad():
        iwae = torch.stack([model.loss(x, y) for _ in range(200)]).mean(0)
        elbo = torch.stack([model.test_loss(x, y) for _ in range(200)]).mean(0)
    assert (iwae < elbo).all()


def test_the_iwae_objective_draws_its_noise_as_eval_does_under_bf16_autocast():
    model = create_model("vae", DIGIT_SPEC, iwae_samples=5).eval()
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        torch.manual_seed(3)
        trained_on = model.loss(x)
        bound = model.importance_nll(x, None, 5, torch.Generator().manual_seed(3))
    assert torch.equal(trained_on, bound)


def test_training_on_the_iwae_bound_lowers_it():
    torch.manual_seed(0)
    model = create_model("vae", DIGIT_SPEC, iwae_samples=4)
    x = (torch.rand(32, 1, 28, 28) < torch.linspace(0, 1, 28).view(1, 1, 1, 28)).float()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = model.loss(x).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.8 * sum(losses[:5]) / 5


def test_a_training_run_tells_its_model_how_far_it_has_come(tmp_path):
    from aecli.data import DataRecipe
    from aecli.train.loop import TrainSettings, train

    seen = []
    original = MODELS.get("vae").loss

    def watched(self, x, y=None):
        seen.append((self.progress, self.kl_weight()))
        return original(self, x, y)

    settings = TrainSettings("vae", DataRecipe("digits", limit=200), epochs=2, seed=0, model_options={"kl_warmup": 0.5})
    try:
        MODELS.get("vae").loss = watched
        train(settings, device="cpu", out=tmp_path / "run")
    finally:
        MODELS.get("vae").loss = original
    progress, weights = zip(*seen, strict=True)
    assert progress[0] == 0 and 0.9 < progress[-1] < 1 and list(progress) == sorted(progress)
    assert weights[0] == 0 and weights[-1] == 1 and 0 < weights[len(weights) // 4] < 1


def test_bernoulli_nll_matches_torch_in_value_and_gradient():
    logits = torch.cat([torch.randn(4, 1, 6, 6) * 5, torch.full((1, 1, 6, 6), 80.0), torch.full((1, 1, 6, 6), -80.0)])
    target = torch.rand(6, 1, 6, 6)
    ours, theirs = (logits.clone().requires_grad_() for _ in range(2))
    expected = F.binary_cross_entropy_with_logits(theirs, target, reduction="none").sum((1, 2, 3))
    got = bernoulli_nll(ours, target)
    assert got.shape == (6,) and torch.allclose(got, expected, rtol=1e-5, atol=1e-4)
    weights = torch.arange(1.0, 7.0)  # a different upstream gradient per sample
    (got * weights).sum().backward()
    (expected * weights).sum().backward()
    assert torch.allclose(ours.grad, theirs.grad, atol=1e-6)
    inputs = (logits[:2].double().requires_grad_(), target[:2].double().requires_grad_())
    assert torch.autograd.gradcheck(BernoulliNLL.apply, inputs)


@pytest.mark.parametrize("channels", [(16, 1), (6, 3)])
def test_subpixel_transposed_convolution_equals_torchs_in_value_and_gradient(channels):
    torch.manual_seed(0)
    reference = torch.nn.ConvTranspose2d(*channels, 4, stride=2, padding=1).double()
    ours = SubpixelConvTranspose2d(*channels).double()
    ours.load_state_dict(reference.state_dict())  # the same parameters: checkpoints load either way
    x = torch.randn(3, channels[0], 7, 5, dtype=torch.float64, requires_grad=True)
    expected, got = reference(x), ours(x)
    assert got.shape == expected.shape == (3, channels[1], 14, 10)
    assert torch.allclose(got, expected, atol=1e-12)
    upstream = torch.randn_like(got)
    grads = torch.autograd.grad(got, [x, ours.weight, ours.bias], upstream)
    expected_grads = torch.autograd.grad(expected, [x, reference.weight, reference.bias], upstream)
    for a, b in zip(grads, expected_grads, strict=True):
        assert torch.allclose(a, b, atol=1e-12)
    in_channels_last = x.detach().contiguous(memory_format=torch.channels_last)
    assert torch.allclose(ours(in_channels_last), expected, atol=1e-12)


LABELLED_LAYERS = {
    "conv": lambda c: torch.nn.Conv2d(3 + c, 5, 3, padding=1),
    "transposed": lambda c: torch.nn.ConvTranspose2d(3 + c, 5, 4, stride=2, padding=1),
    "subpixel": lambda c: SubpixelConvTranspose2d(3 + c, 2),
}


@pytest.mark.parametrize("kind", LABELLED_LAYERS)
def test_label_maps_give_what_appended_constant_maps_give_in_value_and_gradient(kind):
    torch.manual_seed(0)
    classes = 7
    layer = LABELLED_LAYERS[kind](classes).double()
    h = torch.randn(4, 3, 6, 6, dtype=torch.float64, requires_grad=True)
    for labels in (F.one_hot(torch.tensor([0, 6, 3, 3]), classes), torch.softmax(torch.randn(4, classes), 1)):
        labels = labels.double()  # one label each, and blends of labels
        expected = layer(torch.cat([h, labels[:, :, None, None].expand(-1, -1, 6, 6)], 1))
        got = with_label_maps(layer, h, labels, tap_patterns(layer, 6), classes)
        assert got.shape == expected.shape and torch.allclose(got, expected, atol=1e-12)
        upstream = torch.randn_like(got)
        grads = torch.autograd.grad(got, [h, layer.weight], upstream)
        for a, b in zip(grads, torch.autograd.grad(expected, [h, layer.weight], upstream), strict=True):
            assert torch.allclose(a, b, atol=1e-12)


def test_square_tap_patterns_are_where_a_kernel_lands_on_ones():
    layer = torch.nn.Conv2d(1, 1, 3, padding=1)
    patterns = tap_patterns(layer, 4).reshape(9, 4, 4)
    assert patterns.sum(0)[0, 0] == 4 and patterns.sum(0)[1, 1] == 9  # a corner sees 4 taps, the inside all 9
    assert patterns[4].eq(1).all()  # the centre tap lands everywhere


def peak_mib_of_a_5000_class_cvae(work: str) -> int:
    """Peak memory of a child that builds a 5,000-class cvae at 64 pixels as `m` and runs `work`: its own
    high-water mark (VmHWM), as its ru_maxrss would start at the size of this test process."""
    code = (
        "import re, torch; from aecli.models import MODELS;"
        "m = MODELS.get('cvae')(MODELS.get('cvae').Config(channels=1, image_size=64, num_classes=5000));"
        f"{work};"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read()).group(1)) // 1024)"
    )
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def test_a_cvae_of_thousands_of_classes_trains_a_step_in_little_memory():
    # appended maps made the first layer 5001 channels deep: 10.6 GB for a batch of 64
    step = "x, y = torch.rand(64, 1, 64, 64), torch.randint(5000, (64,)); m.loss(x, y).mean().backward()"
    assert peak_mib_of_a_5000_class_cvae(step) < 1500


def test_an_image_of_unknown_class_is_scored_under_every_class_in_chunks():
    import math

    spec = DataSpec("many", channels=1, image_size=28, class_names=tuple(f"c{i}" for i in range(100)))
    model = create_model("cvae", spec).eval()  # 100 classes: two chunks of classes
    x = torch.rand(3, 1, 28, 28)
    with torch.no_grad():
        each = torch.stack([model.score(x, torch.full((3,), c)) for c in range(100)], dim=1)
        assert torch.allclose(model.score(x), math.log(100) - torch.logsumexp(-each, dim=1), rtol=1e-5)


def test_an_image_of_unknown_class_is_scored_with_the_importance_bound_too():
    # the bound's samples repeat the one-hot labels of every class (a 2-D label tensor: it used to fail)
    import math

    model = create_model("cvae", DIGIT_SPEC).eval()
    x = torch.rand(2, 1, 28, 28)
    every = F.one_hot(torch.arange(10), 10).float().repeat(2, 1)
    with torch.no_grad():
        unknown = model.score(x, None, "iwae", k=3)
        each = model.score(x.repeat_interleave(10, 0), every, "iwae", k=3).reshape(2, 10)
    assert unknown.shape == (2,) and torch.isfinite(unknown).all()
    assert torch.allclose(unknown, math.log(10) - torch.logsumexp(-each, dim=1), rtol=1e-5)


def test_scoring_one_image_under_thousands_of_classes_takes_little_memory():
    # all classes at once made one image 5,000 images: 4.5 GB
    one = "from aecli.evaluate.anomaly import score_batch; score_batch(m, torch.zeros(1, 1, 64, 64, dtype=torch.uint8))"
    assert peak_mib_of_a_5000_class_cvae(one) < 1500


def test_quantiles_of_a_model_of_thousands_of_classes_come_from_fewer_images():
    from aecli.evaluate.anomaly import quantile_images

    assert quantile_images(create_model("vae", DIGIT_SPEC), 60_000) == 20_000
    assert quantile_images(create_model("cvae", DIGIT_SPEC), 60_000) == 20_000  # MNIST's cvae as before
    assert quantile_images(create_model("cvae", DIGIT_SPEC), 500) == 500
    many = DataSpec("many", channels=1, image_size=28, class_names=tuple(f"c{i}" for i in range(10_000)))
    assert quantile_images(create_model("cvae", many), 60_000) == 200  # 2 million scorings, not 200 million


def test_cvae_decoder_depends_on_the_label():
    model = create_model("cvae", DIGIT_SPEC)
    z = torch.randn(1, model.config.latent_dim)
    assert not torch.allclose(model.decode(z, torch.tensor([3])), model.decode(z, torch.tensor([7])))


def test_cvae_encoder_depends_on_the_label():
    model = create_model("cvae", DIGIT_SPEC)
    x = torch.rand(1, 1, 28, 28)
    assert not torch.allclose(model.encode(x, torch.tensor([3])), model.encode(x, torch.tensor([7])))


def test_create_model_defaults_and_errors():
    assert create_model("vae", latent_dim=None).config.latent_dim == 20
    assert create_model("cvae", DIGIT_SPEC).config.latent_dim == 8
    assert create_model("ae", DataSpec("faces", channels=1, image_size=64)).config.latent_dim == 128
    with pytest.raises(UsageError, match="class labels"):
        create_model("cvae", DataSpec("faces", channels=1, image_size=28))
    assert create_model("ae", DataSpec("digits", channels=1, image_size=28)).encoder[0].stride == (2, 2)
    with pytest.raises(UsageError, match="image-size"):
        create_model("ae", DataSpec("faces", channels=1, image_size=42))  # halves once only


def test_ae_latent_is_a_grid_of_codes_where_it_fits_and_old_checkpoints_keep_one_vector():
    from aecli.models import model_from_config

    faces = DataSpec("faces", channels=1, image_size=64)
    grid = create_model("ae", faces)  # 128 codes = 8 per cell of the 4 x 4 grid
    vector = create_model("ae", faces, grid_latent=0)
    assert grid.config.latent_grid() == (8, 4) and vector.config.latent_grid() is None
    # the decoder draws with a 3x3 convolution after each of its three inner upsamplings
    assert sum(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) for m in grid.decoder) == 3
    # the 1x1 convolutions hold a fraction of the linear layers' weights
    shallow = {"decoder_convs": 0}  # the same decoder stages either way; without their convolutions
    grid_weights = sum(p.numel() for p in create_model("ae", faces, **shallow).parameters())
    assert grid_weights < 0.6 * sum(p.numel() for p in create_model("ae", faces, grid_latent=0, **shallow).parameters())
    x = torch.rand(3, 1, 64, 64)
    grid.eval()
    z = grid.encode(x)
    assert z.shape == (3, 128)
    # code k is channel k // 16 at cell ((k % 16) // 4, k % 4): a change to one code moves the face near it
    nudged = z.clone()
    nudged[:, 0] += 5.0  # channel 0, top-left cell
    change = (grid.decode(nudged) - grid.decode(z)).abs()[:, 0]
    assert change[:, :16, :16].mean() > 10 * change[:, 48:, 48:].mean()
    # 100 codes do not divide into 16 cells: one vector, as before
    assert create_model("ae", faces, latent_dim=100).config.latent_grid() is None
    # a checkpoint written before the grid existed has no such key and builds the vector form
    stored = {"channels": 1, "image_size": 64, "latent_dim": 128, "width": 32}
    old = model_from_config("ae", stored)
    assert old.config.latent_grid() is None and not old.config.decoder_convs
    assert old.state_dict().keys() == create_model("ae", faces, grid_latent=0, decoder_convs=0).state_dict().keys()


def lit_faces(n: int, g: torch.Generator) -> torch.Tensor:
    """n uint8 32x32 'faces' of their own brightness, lit from the left or right: a decoder can learn them."""
    level = 0.2 + 0.5 * torch.rand(n, 1, 1, 1, generator=g)
    light = torch.linspace(-1, 1, 32).view(1, 1, 1, 32) * 0.3 * (2 * torch.rand(n, 1, 1, 1, generator=g) - 1)
    return ((level + light).clamp(0, 1).expand(n, 1, 32, 32) * 255).round().to(torch.uint8)


def test_ae_later_encoder_passes_start_as_the_first_and_learn_to_correct_its_codes():
    from aecli.models import model_from_config

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = create_model("ae", DataSpec("faces", channels=1, image_size=32), encoder_passes=2)
    x = lit_faces(8, g).float() / 255
    with torch.no_grad():
        assert torch.equal(model.encode(x), model.encoder(x))  # the corrector adds nothing before training
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(60):
        loss = model.loss(lit_faces(32, g).float() / 255).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    x = lit_faces(16, g).float() / 255  # faces it did not train on
    with torch.no_grad():
        first = model.encoder(x)
        first_error = (model.decode(first) - x).square().flatten(1).mean(1)
        final_error = (model.decode(model.encode(x)) - x).square().flatten(1).mean(1)
        # the training loss weighs every pass's drawing alike; test figures are the last pass's
        assert torch.allclose(model.loss(x), (first_error + final_error) / 2, atol=1e-6)
        assert torch.allclose(model.test_loss(x), final_error, atol=1e-6)
    assert final_error.mean() < 0.8 * first_error.mean()  # the second look redraws unseen faces better
    # a checkpoint from before the option reads each face once and has no corrector
    old = model_from_config("ae", {"channels": 1, "image_size": 32, "latent_dim": 128, "width": 32})
    assert old.config.encoder_passes == 1 and not any(key.startswith("corrector") for key in old.state_dict())


def test_ae_refined_codes_redraw_every_face_at_least_as_well_as_the_encoders(monkeypatch):
    from aecli.inference import latent_codes, reconstruct

    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    model = create_model("ae", DataSpec("faces", channels=1, image_size=32))
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(40):  # a briefly trained model: its decoder draws lit faces, its encoder only roughly
        loss = model.loss(lit_faces(32, g).float() / 255).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval().zero_grad(set_to_none=True)
    images = lit_faces(6, g)  # faces it did not train on
    x = images.float() / 255

    def errors(codes: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return (model.decode(codes) - x).square().flatten(1).mean(1)

    encoded = latent_codes(model, images)  # under inference mode, as every command encodes
    refined = latent_codes(model, images, refine=True)
    assert (errors(refined) <= errors(encoded)).all()  # each face keeps its best code
    assert errors(refined).mean() < 0.5 * errors(encoded).mean()
    assert torch.equal(model.refine_codes(x, encoded, steps=0), encoded)
    together = model.refine_codes(x, encoded)
    monkeypatch.setattr("aecli.models.ae.REFINE_PIXELS", 2 * 32 * 32)  # two faces at a time
    assert torch.allclose(model.refine_codes(x, encoded), together, atol=1e-4)  # each code its own problem
    assert all(p.grad is None for p in model.parameters())  # the decoder is not trained by refining
    with torch.no_grad():
        assert torch.allclose(reconstruct(model, images), model.decode(refined))
    vae = create_model("vae", DIGIT_SPEC).eval()  # models without refinement keep the encoder's codes
    digits = (torch.rand(4, 1, 28, 28) * 255).to(torch.uint8)
    assert torch.equal(latent_codes(vae, digits, refine=True), latent_codes(vae, digits))
