"""Tests for colorlib.train: data set tensors, losses, the two evaluations, the assignment's test order, training."""
import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from colorlib.colours import DEFAULT_COLOURS, load_colours
from colorlib.models import build_model
from colorlib.metrics import psnr
from colorlib.superres import downsize
from colorlib.train import (assignment_test_order, compute_loss, decode, evaluate, evaluate_legacy, make_dataset,
                            predict, train)

EPOCH_KEYS = {'epoch', 'train_loss', 'val_loss', 'val_acc', 'seconds'}


@pytest.fixture(scope='module')
def centres():
    return load_colours(DEFAULT_COLOURS)


@pytest.fixture(scope='module')
def small_sets(horses, centres):
    """(train, val) colour-class data sets: 200 training and 60 test horses."""
    train_x, test_x = horses
    return make_dataset(train_x[:200], centres, False), make_dataset(test_x[:60], centres, False)


def small_model(centres, name='UNet', num_filters=8, seed=0):
    torch.manual_seed(seed)
    return build_model(name, 3, num_filters, len(centres))


def warmed_model(centres, grey, name='UNet'):
    """A model whose BatchNorm running statistics are no longer the initial 0/1, in training mode."""
    model = small_model(centres, name)
    model.train()
    with torch.no_grad():
        for start in range(0, 40, 10):
            model(grey[start:start + 10] * 3 + 0.2)  # inputs unlike the data, so the running stats are off
    return model


def state_copy(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def assert_same_state(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key

# -----------------------------------------------------------------------------
# make_dataset


def test_make_dataset_classes_shapes_dtypes_and_values(horses, centres):
    images = horses[1][:12]
    grey, classes = make_dataset(images, centres, regression=False)
    assert grey.shape == (12, 1, 32, 32) and grey.dtype == torch.float32
    assert classes.shape == (12, 32, 32) and classes.dtype == torch.int64
    rgb = images.astype(np.float64).transpose(0, 3, 1, 2) / 256
    np.testing.assert_allclose(grey.numpy(), rgb.mean(axis=1, keepdims=True), atol=1e-6)
    # nearest centre by brute force, pixel by pixel distances to every centre
    pixels = rgb.transpose(0, 2, 3, 1)[..., None, :]
    distances = ((pixels - centres.double().numpy()) ** 2).sum(-1)
    nearest = distances.argmin(-1)
    sorted_d = np.sort(distances, axis=-1)
    clear = sorted_d[..., 1] - sorted_d[..., 0] > 1e-9  # ignore exact ties
    assert clear.mean() > 0.99
    np.testing.assert_array_equal(classes.numpy()[clear], nearest[clear])
    assert 0 <= classes.min() and classes.max() < len(centres)


def test_make_dataset_regression_target_is_rgb(horses):
    images = horses[1][:5]
    grey, target = make_dataset(images, None, regression=True)
    assert grey.shape == (5, 1, 32, 32) and target.shape == (5, 3, 32, 32)
    assert target.dtype == torch.float32 and target.is_floating_point()
    expected = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 256)
    assert torch.equal(target, expected)
    assert torch.allclose(grey, expected.mean(1, keepdim=True))
    assert float(target.max()) < 1 and float(target.min()) >= 0



@pytest.mark.parametrize('regression', [False, True], ids=['classes', 'rgb'])
def test_make_dataset_superres_input_is_the_downsized_colour_image(horses, centres, regression):
    images = horses[1][:6]
    inputs, target = make_dataset(images, None if regression else centres, regression, task='superres')
    colour_inputs, colour_target = make_dataset(images, None if regression else centres, regression)
    assert torch.equal(target, colour_target)  # the task changes the input only
    assert inputs.shape == (6, 3, 32, 32) and inputs.dtype == torch.float32
    rgb = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 256)
    expected_small = rgb.reshape(6, 3, 8, 4, 8, 4).mean((3, 5))  # 4x4 block means
    assert torch.allclose(inputs[:, :, ::4, ::4], expected_small, atol=1e-6)
    assert torch.equal(inputs, inputs[:, :, ::4, ::4].repeat_interleave(4, 2).repeat_interleave(4, 3))


MODEL_TASKS = [(name, task, loss) for name in ('RegressionCNN', 'CNN', 'UNet', 'DUNet')
               for task in ('colour', 'superres') for loss in ('ce', 'mse')
               if not (name == 'RegressionCNN' and loss == 'ce')]


@pytest.mark.parametrize('name, task, loss', MODEL_TASKS)
def test_every_model_and_task_runs_on_larger_images(name, task, loss, centres):
    """Trained at 32x32, any model runs unchanged on images whose sides are multiples of 4 (here 64x48)."""
    images = np.random.default_rng(0).integers(0, 256, (2, 64, 48, 3), dtype=np.uint8)
    colours = None if loss == 'mse' else centres
    inputs, target = make_dataset(images, colours, colours is None, task)
    torch.manual_seed(0)
    model = build_model(name, 3, 4, 3 if colours is None else len(colours), num_in_channels=inputs.shape[1])
    pictures = predict(model, inputs, colours)
    assert pictures.shape == (2, 3, 64, 48) and 0 <= pictures.min() and pictures.max() <= 1
    loss_value, _ = evaluate(model, inputs, target)
    assert np.isfinite(loss_value)


def test_predict_decodes_in_eval_mode_in_batches(small_sets, centres):
    grey = small_sets[1][0]
    model = warmed_model(centres, grey)
    before = state_copy(model)
    pictures = predict(model, grey, centres, batch_size=7)
    assert not model.training
    assert_same_state(before, state_copy(model))
    with torch.no_grad():
        assert torch.equal(pictures, decode(model(grey), centres))


def test_psnr_of_the_superres_input_is_the_nearest_baseline(horses):
    """The network's superres input already scores as nearest-neighbour upsampling: the bar to clear."""
    inputs, rgb = make_dataset(horses[1][:20], None, True, task='superres')
    assert torch.allclose(downsize(inputs), downsize(rgb), atol=1e-6)
    assert 15 < psnr(inputs, rgb) < 25

# -----------------------------------------------------------------------------
# compute_loss and decode


def test_compute_loss_float_target_is_mse():
    gen = torch.Generator().manual_seed(1)
    outputs, target = torch.rand(4, 3, 8, 8, generator=gen), torch.rand(4, 3, 8, 8, generator=gen)
    loss = compute_loss(outputs, target)
    assert torch.allclose(loss, F.mse_loss(outputs, target))
    assert not torch.allclose(loss, F.l1_loss(outputs, target))


def test_compute_loss_class_target_is_cross_entropy():
    gen = torch.Generator().manual_seed(2)
    outputs = torch.randn(4, 24, 8, 8, generator=gen)
    target = torch.randint(0, 24, (4, 8, 8), generator=gen)
    loss = compute_loss(outputs, target)
    assert torch.allclose(loss, F.cross_entropy(outputs, target))
    expected = -torch.log_softmax(outputs, 1).gather(1, target[:, None]).mean()
    assert torch.allclose(loss, expected, atol=1e-6)


def test_decode_picks_the_likeliest_colour_or_clamps(centres):
    classes = torch.tensor([[[0, 5], [23, 7]]])
    scores = F.one_hot(classes, len(centres)).permute(0, 3, 1, 2).float() * 5
    rgb = decode(scores, centres)
    assert rgb.shape == (1, 3, 2, 2)
    assert torch.equal(rgb[0, :, 1, 0], centres[23]) and torch.equal(rgb[0, :, 0, 1], centres[5])
    raw = torch.tensor([-0.5, 0.25, 1.5]).view(1, 3, 1, 1)
    assert decode(raw, None).flatten().tolist() == [0.0, 0.25, 1.0]

# -----------------------------------------------------------------------------
# evaluate and evaluate_legacy


def test_evaluate_is_mean_over_all_pixels_and_percent_accuracy(small_sets, centres):
    grey, target = small_sets[1]
    model = warmed_model(centres, grey)
    before = state_copy(model)
    model.eval()
    with torch.no_grad():
        outputs = model(grey)
    expected_loss = F.cross_entropy(outputs, target).item()
    expected_acc = 100 * (outputs.argmax(1) == target).double().mean().item()
    model.train()
    results = [evaluate(model, grey, target, batch_size=b) for b in (7, 60, 500)]
    for loss, acc in results:
        assert loss == pytest.approx(expected_loss, rel=1e-5)
        assert acc == pytest.approx(expected_acc, abs=1e-9)
    assert 0 < expected_acc < 100
    assert not model.training
    assert_same_state(before, state_copy(model))


def test_evaluate_regression_has_no_accuracy(horses):
    grey, target = make_dataset(horses[1][:20], None, regression=True)
    torch.manual_seed(0)
    model = build_model('RegressionCNN', 3, 8, 3).eval()
    with torch.no_grad():
        expected = F.mse_loss(model(grey), target).item()
    loss, acc = evaluate(model, grey, target, batch_size=6)
    assert acc is None
    assert loss == pytest.approx(expected, rel=1e-5)


def test_evaluate_legacy_uses_batch_statistics_without_touching_the_model(small_sets, centres):
    grey, target = small_sets[1]
    model = warmed_model(centres, grey).eval()
    before = state_copy(model)
    legacy_loss, legacy_acc = evaluate_legacy(model, grey, target, batch_size=20)
    assert_same_state(before, state_copy(model))
    assert not model.training
    # the same figures by hand: BatchNorm in training mode on each batch of 20, mean of the three batch losses
    twin = copy.deepcopy(model).train()
    losses, correct = [], 0
    with torch.no_grad():
        for start in range(0, 60, 20):
            out = twin(grey[start:start + 20])
            losses.append(F.cross_entropy(out, target[start:start + 20]).item())
            correct += (out.argmax(1) == target[start:start + 20]).sum().item()
    assert legacy_loss == pytest.approx(np.mean(losses), rel=1e-5)
    assert legacy_acc == pytest.approx(100 * correct / target.numel())
    eval_loss, _ = evaluate(model, grey, target)
    assert abs(eval_loss - legacy_loss) > 1e-3
    # a second call gives the same answer: nothing carried over between calls
    assert evaluate_legacy(model, grey, target, batch_size=20) == (legacy_loss, legacy_acc)

# -----------------------------------------------------------------------------
# assignment_test_order


def tagged(n):
    """(n, 3, 32, 32) images, as the assignment holds them, whose first pixel holds the image's index."""
    images = np.zeros((n, 3, 32, 32), dtype=np.int16)
    images[:, 0, 0, 0] = np.arange(n)
    return images


@pytest.mark.parametrize('seed', [0, 7])
def test_assignment_test_order_matches_the_assignment_shuffles(seed):
    np.random.seed(seed)
    train_images, test_images = tagged(5000), tagged(1000)
    np.random.shuffle(train_images)
    np.random.shuffle(test_images)
    expected = test_images[:, 0, 0, 0].astype(np.int64)
    order = assignment_test_order(5000, 1000, seed)
    assert isinstance(order, torch.Tensor) and order.dtype == torch.int64
    np.testing.assert_array_equal(order.numpy(), expected)
    assert sorted(order.tolist()) == list(range(1000))


def test_assignment_test_order_depends_on_the_training_set_size():
    assert not torch.equal(assignment_test_order(5000, 1000, 0), assignment_test_order(4999, 1000, 0))

# -----------------------------------------------------------------------------
# train


def test_train_lowers_the_loss_and_logs_each_epoch(small_sets, centres, tmp_path, capsys):
    train_set, val_set = small_sets
    model = small_model(centres)
    before, _ = evaluate(model, *train_set)
    epochs_seen = []
    history = train(model, train_set, val_set, epochs=2, batch_size=25, learn_rate=0.01, seed=0,
                    out_dir=tmp_path / 'run', on_epoch=epochs_seen.append)
    after, _ = evaluate(model, *train_set)
    assert after < before - 0.1
    assert [h['epoch'] for h in history] == [1, 2] and epochs_seen == [1, 2]
    assert history[1]['train_loss'] < history[0]['train_loss']

    lines = (tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 2
    for row, logged in zip(rows, history):
        assert EPOCH_KEYS <= set(row)
        assert row == pytest.approx(logged)
        assert 0 <= row['val_acc'] <= 100 and row['seconds'] >= 0
    assert rows[0]['seconds'] <= rows[1]['seconds']

    out = capsys.readouterr().out.splitlines()
    epoch_lines = [line for line in out if line.startswith('Epoch [')]
    assert len(epoch_lines) == 2
    for n, (line, row) in enumerate(zip(epoch_lines, rows), 1):
        assert line.startswith(f'Epoch [{n}/2], Loss: {row["train_loss"]:.4f}, Val Loss: {row["val_loss"]:.4f}, '
                               f'Val Acc: {row["val_acc"]:.1f}%, Time(s): ')


def test_train_restarts_the_metrics_file(small_sets, centres, tmp_path):
    train_set, val_set = small_sets
    (tmp_path / 'metrics.jsonl').write_text('{"epoch": 99}\n' * 5)
    train(small_model(centres, 'CNN', 4), train_set, val_set, epochs=1, batch_size=50, learn_rate=0.01, seed=0,
          out_dir=tmp_path)
    rows = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
    assert [row['epoch'] for row in rows] == [1]


def test_train_is_deterministic_for_a_seed(small_sets, centres, tmp_path):
    train_set, val_set = small_sets
    train_set = tuple(t[:100] for t in train_set)
    states = []
    for run, seed in enumerate((3, 3, 4)):
        model = small_model(centres, 'DUNet', 4, seed=0)
        train(model, train_set, val_set, epochs=1, batch_size=20, learn_rate=0.01, seed=seed,
              out_dir=tmp_path / str(run))
        states.append(state_copy(model))
    assert_same_state(states[0], states[1])
    # a different seed shuffles differently, so the weights differ
    assert any(not torch.equal(states[0][k], states[2][k]) for k in states[0])
