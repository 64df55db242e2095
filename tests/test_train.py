"""Tests for colorlib.train: the data train() is fed (through targets), predict, the two evaluations, the
assignment's test order, to_device and training."""
import copy
import json
import signal
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import train_in

from colorlib.checkpoints import read_resumable
from colorlib.errors import InputError, NonFiniteLoss, RunExists, WriteError
from colorlib.images import to_float
from colorlib.metrics import psnr
from colorlib.models import ModelConfig, build_model
from colorlib.superres import downsize
from colorlib.targets import RGB, ColourClasses
from colorlib.train import (LAYOUT, TrainConfig, assignment_test_order, evaluate, evaluate_legacy, make_scheduler,
                            predict, to_device, train, train_epoch)

EPOCH_KEYS = {'epoch', 'train_loss', 'val_loss', 'val_acc', 'seconds'}


@pytest.fixture(scope='module')
def classes(centres):
    return ColourClasses(centres)


@pytest.fixture(scope='module')
def small_sets(horses, classes):
    """(train, val) colour-class data sets: 200 training and 60 test horses."""
    train_x, test_x = horses
    return classes.encode(to_float(train_x[:200])), classes.encode(to_float(test_x[:60]))


def small_model(centres, name='UNet', num_filters=8, seed=0):
    torch.manual_seed(seed)
    return build_model(ModelConfig(name, 3, num_filters, len(centres)))


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
# the data train() is fed: target.encode of float images (was make_dataset), target.loss (was compute_loss),
# target.decode (was decode)


def test_colour_classes_encode_grey_and_nearest_colour(horses, centres):
    images = horses[1][:12]
    grey, classes = ColourClasses(centres).encode(to_float(images))
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


def test_rgb_encode_target_is_the_image(horses):
    images = horses[1][:5]
    grey, target = RGB().encode(to_float(images))
    assert grey.shape == (5, 1, 32, 32) and target.shape == (5, 3, 32, 32)
    assert target.dtype == torch.float32 and target.is_floating_point()
    expected = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 256)
    assert torch.equal(target, expected)
    assert torch.allclose(grey, expected.mean(1, keepdim=True))
    assert float(target.max()) < 1 and float(target.min()) >= 0


@pytest.mark.parametrize('kind', [ColourClasses, RGB], ids=['classes', 'rgb'])
def test_superres_input_is_the_downsized_colour_image(horses, centres, kind):
    images = horses[1][:6]
    make = (lambda task: RGB(task)) if kind is RGB else (lambda task: ColourClasses(centres, task))
    inputs, target = make('superres').encode(to_float(images))
    colour_inputs, colour_target = make('colour').encode(to_float(images))
    assert torch.equal(target, colour_target)  # the task changes the input only
    assert inputs.shape == (6, 3, 32, 32) and inputs.dtype == torch.float32
    rgb = torch.from_numpy(images.transpose(0, 3, 1, 2).astype(np.float32) / 256)
    expected_small = rgb.reshape(6, 3, 8, 4, 8, 4).mean((3, 5))  # 4x4 block means
    assert torch.allclose(inputs[:, :, ::4, ::4], expected_small, atol=1e-6)
    assert torch.equal(inputs, inputs[:, :, ::4, ::4].repeat_interleave(4, 2).repeat_interleave(4, 3))


def test_psnr_of_the_superres_input_is_the_nearest_baseline(horses):
    """The network's superres input already scores as nearest-neighbour upsampling: the bar to clear."""
    inputs, rgb = RGB('superres').encode(to_float(horses[1][:20]))
    assert torch.allclose(downsize(inputs), downsize(rgb), atol=1e-6)
    assert 15 < psnr(inputs, rgb) < 25


def test_rgb_loss_is_mse():
    gen = torch.Generator().manual_seed(1)
    outputs, target = torch.rand(4, 3, 8, 8, generator=gen), torch.rand(4, 3, 8, 8, generator=gen)
    loss = RGB().loss(outputs, target)
    assert torch.allclose(loss, F.mse_loss(outputs, target))
    assert not torch.allclose(loss, F.l1_loss(outputs, target))


def test_colour_classes_loss_is_cross_entropy(centres):
    gen = torch.Generator().manual_seed(2)
    outputs = torch.randn(4, 24, 8, 8, generator=gen)
    target = torch.randint(0, 24, (4, 8, 8), generator=gen)
    loss = ColourClasses(centres).loss(outputs, target)
    assert torch.allclose(loss, F.cross_entropy(outputs, target))
    expected = -torch.log_softmax(outputs, 1).gather(1, target[:, None]).mean()
    assert torch.allclose(loss, expected, atol=1e-6)


def test_decode_picks_the_likeliest_colour_or_clamps(centres):
    classes = torch.tensor([[[0, 5], [23, 7]]])
    scores = F.one_hot(classes, len(centres)).permute(0, 3, 1, 2).float() * 5
    grey = torch.rand(1, 1, 2, 2)
    rgb = ColourClasses(centres).decode(scores, grey)
    assert rgb.shape == (1, 3, 2, 2)
    assert torch.equal(rgb[0, :, 1, 0], centres[23]) and torch.equal(rgb[0, :, 0, 1], centres[5])
    raw = torch.tensor([-0.5, 0.25, 1.5]).view(1, 3, 1, 1)
    assert RGB().decode(raw, grey[:, :, :1, :1]).flatten().tolist() == [0.0, 0.25, 1.0]

# -----------------------------------------------------------------------------
# predict


MODEL_TASKS = [(name, task, loss) for name in ('RegressionCNN', 'CNN', 'UNet', 'DUNet')
               for task in ('colour', 'superres') for loss in ('ce', 'mse')
               if not (name == 'RegressionCNN' and loss == 'ce')]


@pytest.mark.parametrize('name, task, loss', MODEL_TASKS)
def test_every_model_and_task_runs_on_larger_images(name, task, loss, centres):
    """Trained at 32x32, any model runs unchanged on images whose sides are multiples of 4 (here 64x48)."""
    images = np.random.default_rng(0).integers(0, 256, (2, 64, 48, 3), dtype=np.uint8)
    target = RGB(task) if loss == 'mse' else ColourClasses(centres, task)
    inputs, targets = target.encode(to_float(images))
    assert inputs.shape == (2, target.in_channels, 64, 48)
    torch.manual_seed(0)
    model = build_model(ModelConfig(name, 3, 4, target.out_channels, target.in_channels))
    pictures = predict(model, target, inputs)
    assert pictures.shape == (2, 3, 64, 48) and 0 <= pictures.min() and pictures.max() <= 1
    loss_value, acc = evaluate(model, target, inputs, targets)
    assert np.isfinite(loss_value)
    assert (acc is None) == (loss == 'mse')


def test_predict_decodes_in_eval_mode_in_batches(small_sets, centres, classes):
    grey = small_sets[1][0]
    model = warmed_model(centres, grey)
    before = state_copy(model)
    pictures = predict(model, classes, grey, batch_size=7)
    assert not model.training
    assert_same_state(before, state_copy(model))
    with torch.no_grad():
        assert torch.equal(pictures, classes.decode(model(grey), grey))

# -----------------------------------------------------------------------------
# evaluate and evaluate_legacy


def test_evaluate_is_mean_over_all_pixels_and_percent_accuracy(small_sets, centres, classes):
    grey, target = small_sets[1]
    model = warmed_model(centres, grey)
    before = state_copy(model)
    model.eval()
    with torch.no_grad():
        outputs = model(grey)
    expected_loss = F.cross_entropy(outputs, target).item()
    expected_acc = 100 * (outputs.argmax(1) == target).double().mean().item()
    model.train()
    results = [evaluate(model, classes, grey, target, batch_size=b) for b in (7, 60, 500)]
    for loss, acc in results:
        assert loss == pytest.approx(expected_loss, rel=1e-5)
        assert acc == pytest.approx(expected_acc, abs=1e-9)
    assert 0 < expected_acc < 100
    assert not model.training
    assert_same_state(before, state_copy(model))


def test_evaluate_regression_has_no_accuracy(horses):
    grey, target = RGB().encode(to_float(horses[1][:20]))
    torch.manual_seed(0)
    model = build_model(ModelConfig('RegressionCNN', 3, 8, 3)).eval()
    with torch.no_grad():
        expected = F.mse_loss(model(grey), target).item()
    loss, acc = evaluate(model, RGB(), grey, target, batch_size=6)
    assert acc is None
    assert loss == pytest.approx(expected, rel=1e-5)


def test_evaluate_legacy_uses_batch_statistics_without_touching_the_model(small_sets, centres, classes):
    grey, target = small_sets[1]
    model = warmed_model(centres, grey).eval()
    before = state_copy(model)
    legacy_loss, legacy_acc = evaluate_legacy(model, classes, grey, target, batch_size=20)
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
    eval_loss, _ = evaluate(model, classes, grey, target)
    assert abs(eval_loss - legacy_loss) > 1e-3
    # a second call gives the same answer: nothing carried over between calls
    assert evaluate_legacy(model, classes, grey, target, batch_size=20) == (legacy_loss, legacy_acc)

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
# to_device


def test_to_device_puts_images_in_the_layout_and_leaves_the_rest():
    images, labels = torch.rand(4, 3, 8, 8), torch.randint(0, 24, (4, 8, 8))
    moved = to_device((images, labels), torch.device('cpu'))
    assert isinstance(moved, tuple) and len(moved) == 2
    assert moved[0].is_contiguous(memory_format=LAYOUT) and not images.is_contiguous(memory_format=LAYOUT)
    assert torch.equal(moved[0], images) and torch.equal(moved[1], labels)
    assert moved[1].is_contiguous() and moved[1].dtype == torch.int64

# -----------------------------------------------------------------------------
# train


def test_train_lowers_the_loss_and_logs_each_epoch(small_sets, centres, classes, tmp_path, capsys):
    train_set, val_set = small_sets
    model = small_model(centres)
    before, _ = evaluate(model, classes, *train_set)
    epochs_seen = []
    history = train_in(tmp_path / 'run', model, classes, train_set, val_set,
                       TrainConfig(epochs=2, batch_size=25, learn_rate=0.01),
                       on_epoch=lambda row: epochs_seen.append(row['epoch']), log=print)
    after, _ = evaluate(model, classes, *train_set)
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


def test_train_regression_logs_no_accuracy(horses, tmp_path, capsys):
    target = RGB()
    train_set, val_set = target.encode(to_float(horses[0][:60])), target.encode(to_float(horses[1][:20]))
    torch.manual_seed(0)
    model = build_model(ModelConfig('RegressionCNN', 3, 4, 3))
    history = train_in(tmp_path, model, target, train_set, val_set, TrainConfig(epochs=1, batch_size=20), log=print)
    assert history[0]['val_acc'] is None and np.isfinite(history[0]['val_loss'])
    line, = [line for line in capsys.readouterr().out.splitlines() if line.startswith('Epoch [')]
    assert line.startswith(f'Epoch [1/1], Loss: {history[0]["train_loss"]:.4f}, '
                           f'Val Loss: {history[0]["val_loss"]:.4f}, Time(s): ')


def test_train_restarts_the_metrics_file_only_when_told(small_sets, centres, classes, tmp_path):
    train_set, val_set = small_sets
    (tmp_path / 'metrics.jsonl').write_text('{"epoch": 99}\n' * 5)
    config = TrainConfig(epochs=1, batch_size=50, learn_rate=0.01)
    with pytest.raises(RunExists, match=r'holds a run \(5 epoch\(s\) logged\)'):  # before any training
        train_in(tmp_path, small_model(centres, 'CNN', 4), classes, train_set, val_set, config)
    assert (tmp_path / 'metrics.jsonl').read_text() == '{"epoch": 99}\n' * 5
    train_in(tmp_path, small_model(centres, 'CNN', 4), classes, train_set, val_set, config, overwrite=True)
    rows = [json.loads(line) for line in (tmp_path / 'metrics.jsonl').read_text().splitlines()]
    assert [row['epoch'] for row in rows] == [1]


def test_train_epoch_and_evaluate_take_a_configs_own_precision(small_sets, centres, classes):
    """Called directly (a benchmark, a notebook's own loop), they take TrainConfig's 'off' or 'auto' as train does."""
    train_set, val_set = small_sets
    model = small_model(centres, 'CNN', 4)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    scheduler = torch.optim.lr_scheduler.ConstantLR(optimizer, factor=1.0)
    for amp in ('off', 'auto'):
        loss = train_epoch(model, classes, optimizer, scheduler, tuple(t[:100] for t in train_set),
                           TrainConfig(batch_size=50, amp=amp), torch.Generator().manual_seed(0))
        assert torch.isfinite(torch.as_tensor(loss))
    assert evaluate(model, classes, *val_set, amp='off')[0] > 0


def test_a_log_that_appears_during_the_first_epoch_is_kept(small_sets, centres, classes, tmp_path):
    train_set, val_set = small_sets
    log = tmp_path / 'metrics.jsonl'

    def appear():  # called at every step: someone else's file shows up at the log's place mid-epoch
        if not log.exists():
            log.write_text('mine\n')
    with pytest.raises(WriteError, match='metrics.jsonl'):
        train_in(tmp_path, small_model(centres, 'CNN', 4), classes, train_set, val_set,
                 TrainConfig(epochs=1, batch_size=50, learn_rate=0.01), stop_signal=appear)
    assert log.read_text() == 'mine\n'


def test_train_is_deterministic_for_a_seed(small_sets, centres, classes, tmp_path):
    train_set, val_set = small_sets
    train_set = tuple(t[:100] for t in train_set)
    states = []
    for run, seed in enumerate((3, 3, 4)):
        model = small_model(centres, 'DUNet', 4, seed=0)
        train_in(tmp_path / str(run), model, classes, train_set, val_set,
                 TrainConfig(epochs=1, batch_size=20, learn_rate=0.01, seed=seed))
        states.append(state_copy(model))
    assert_same_state(states[0], states[1])
    # a different seed shuffles differently, so the weights differ
    assert any(not torch.equal(states[0][k], states[2][k]) for k in states[0])


class LossTurnsNaN(ColourClasses):
    """Colour classes whose loss turns NaN from the `bad`-th call on: of the training steps, or (validation=True)
    of the evaluation batches (no gradients), the other kind staying finite."""

    def __init__(self, centres, bad, validation=False):
        super().__init__(centres)
        self.bad, self.calls, self.validation = bad, 0, validation

    def loss(self, outputs, target, smoothing=0.0):
        value = super().loss(outputs, target, smoothing)
        if torch.is_grad_enabled() != self.validation:
            self.calls += 1
            if self.calls >= self.bad:
                value = value * float('nan')
        return value


def test_a_non_finite_loss_stops_training_and_keeps_the_last_good_state(small_sets, centres, tmp_path):
    """200 images in batches of 50: 4 steps an epoch; the loss turns NaN at step 7, i.e. epoch 2, step 3."""
    train_set, val_set = small_sets
    model = small_model(centres)
    with pytest.raises(NonFiniteLoss, match=r'^training stopped in epoch 2: the loss was not finite \(NaN or infinity\) '
                                            r'at step 3; the last good state \(epoch 1\) is in .*resume\.pt$'):
        train_in(tmp_path / 'run', model, LossTurnsNaN(centres, bad=7), train_set, val_set,
                 TrainConfig(epochs=3, batch_size=50))
    state = read_resumable(tmp_path / 'run' / 'resume.pt')
    assert state['epoch'] == 1 and all(torch.isfinite(v).all() for v in state['model'].values() if v.is_floating_point())
    assert len((tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()) == 1


@pytest.mark.parametrize('what', ['buffer', 'validation'])
def test_a_non_finite_buffer_or_validation_loss_stops_training_keeping_a_finite_state(what, small_sets, centres,
                                                                                   tmp_path):
    """A BatchNorm running variance gone infinite in epoch 2 (the training loss stays finite: batches are normalised
    by their own statistics), or a NaN validation loss in epoch 2 (one evaluation batch an epoch): the run stops
    there; resume.pt keeps epoch 1, finite, and metrics.jsonl holds epoch 1 only, as strict JSON."""
    train_set, val_set = small_sets
    model = small_model(centres)
    target = LossTurnsNaN(centres, bad=2, validation=True) if what == 'validation' else ColourClasses(centres)

    def overflow(row):  # what a huge learning rate does to the statistics, made exact
        if what == 'buffer' and row['epoch'] == 1:
            next(m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)).running_var[0] = float('inf')
    said = 'weights or BatchNorm statistics were no longer finite' if what == 'buffer' else 'val_loss was not finite'
    with pytest.raises(NonFiniteLoss, match=rf'^training stopped in epoch 2: the {said}.*; the last good state '
                                            r'\(epoch 1\) is in .*resume\.pt$'):
        train_in(tmp_path / 'run', model, target, train_set, val_set, TrainConfig(epochs=3, batch_size=50),
                 on_epoch=overflow)
    state = read_resumable(tmp_path / 'run' / 'resume.pt')
    assert state['epoch'] == 1
    assert all(torch.isfinite(v).all() for v in state['model'].values() if v.is_floating_point())
    lines = (tmp_path / 'run' / 'metrics.jsonl').read_text().splitlines()
    assert [json.loads(line, parse_constant=pytest.fail)['epoch'] for line in lines] == [1]


def test_a_stop_after_a_non_finite_loss_saves_no_state_past_it(small_sets, centres, tmp_path):
    """A signal before step 8 (epoch 2, step 4), after the loss went NaN at step 7: the state is not saved, since its
    weights are the bad step's; the run stops as for the NaN, keeping epoch 1's state."""
    train_set, val_set = small_sets
    asked = []

    def stop_signal():
        asked.append(1)
        return signal.SIGTERM if len(asked) >= 8 else None
    with pytest.raises(NonFiniteLoss, match=r'^training stopped in epoch 2: .* at step 3; the last good state '
                                            r'\(epoch 1\)'):
        train_in(tmp_path / 'run', small_model(centres), LossTurnsNaN(centres, bad=7), train_set, val_set,
                 TrainConfig(epochs=3, batch_size=50), stop_signal=stop_signal)
    state = read_resumable(tmp_path / 'run' / 'resume.pt')  # refuses non-finite weights, so these are finite
    assert state['epoch'] == 1 and state['position'] is None

# -----------------------------------------------------------------------------
# recipe ingredients: schedules with warm-up, EMA, label smoothing


def rates(config, steps_per_epoch):
    model = torch.nn.Linear(1, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    scheduler = make_scheduler(optimizer, config, steps_per_epoch)
    seen = []
    for _ in range(config.epochs * steps_per_epoch):
        seen.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    return seen


def test_schedules_warm_up_then_anneal_to_zero():
    constant = rates(TrainConfig(epochs=2, lr_schedule='constant'), 10)
    assert constant == [1.0] * 20
    cosine = rates(TrainConfig(epochs=2, lr_schedule='cosine'), 10)
    assert cosine[0] == 1.0 and cosine[10] == pytest.approx(0.5) and cosine[-1] < 0.01
    linear = rates(TrainConfig(epochs=2, lr_schedule='linear'), 10)
    assert linear[:3] == pytest.approx([1.0, 0.95, 0.9])
    warm = rates(TrainConfig(epochs=2, lr_schedule='cosine', warmup=0.5), 10)  # 5 steps of warm-up, then 15 of cosine
    assert warm[0] == pytest.approx(0.01) and warm[:6] == sorted(warm[:6]) and warm[5] == pytest.approx(1.0)
    assert warm[5:] == pytest.approx(rates(TrainConfig(epochs=3, lr_schedule='cosine'), 5)[:15])


def test_ema_is_evaluated_and_kept(small_sets, centres, classes, tmp_path):
    """With ema the figures and the weights left in the model are those of the average, not of the last step."""
    train_set, val_set = small_sets
    config = TrainConfig(epochs=1, batch_size=50, learn_rate=0.01, ema=0.5)
    plain, averaged = small_model(centres), small_model(centres)
    train_in(tmp_path / 'plain', plain, classes, train_set, val_set, replace(config, ema=0.0))
    history = train_in(tmp_path / 'ema', averaged, classes, train_set, val_set, config)
    assert history[-1]['val_loss'] == pytest.approx(evaluate(averaged, classes, *val_set)[0], abs=1e-6)
    different = [k for k, v in plain.state_dict().items() if v.is_floating_point()
                 and not torch.equal(v, averaged.state_dict()[k])]
    assert different  # the same steps, but the average of the last ones is not the last one
    state = read_resumable(tmp_path / 'ema' / 'resume.pt')
    assert state['ema'] is not None and state['run']['ema'] == 0.5


def test_label_smoothing_is_a_training_loss_only(small_sets, centres, classes, tmp_path):
    outputs, target = torch.randn(2, 24, 4, 4), torch.randint(0, 24, (2, 4, 4))
    assert classes.loss(outputs, target, 0.2) == pytest.approx(F.cross_entropy(outputs, target, label_smoothing=0.2))
    assert classes.loss(outputs, target, 0.2) != pytest.approx(classes.loss(outputs, target))
    train_set, val_set = small_sets
    a, b = small_model(centres), small_model(centres)
    config = TrainConfig(epochs=1, batch_size=50, learn_rate=0.01)
    smoothed = train_in(tmp_path / 'a', a, classes, train_set, val_set, replace(config, label_smoothing=0.3))
    plain = train_in(tmp_path / 'b', b, classes, train_set, val_set, config)
    assert smoothed[0]['train_loss'] > plain[0]['train_loss']  # the smoothed targets cost more to fit
    assert smoothed[0]['val_loss'] == pytest.approx(evaluate(a, classes, *val_set)[0], abs=1e-6)  # plain CE


def test_train_prints_and_writes_nothing_unless_asked(small_sets, centres, classes, tmp_path, monkeypatch, capsys):
    """No log, no progress, no out_dir: a library call a notebook makes leaves the screen and the disk alone."""
    monkeypatch.chdir(tmp_path)
    history = train(small_model(centres), classes, *small_sets, TrainConfig(epochs=1, batch_size=50))
    assert len(history) == 1 and list(tmp_path.iterdir()) == [] and capsys.readouterr() == ('', '')


def test_progress_bar_when_asked_even_without_a_terminal(small_sets, centres, classes, capsys):
    """progress=True draws the bar although stderr is not a terminal (a notebook's is not); None leaves it to
    whether stderr is one."""
    from colorlib.train import show_progress
    assert show_progress(True) and not show_progress(False) and not show_progress(None)  # pytest's stderr: no tty
    train(small_model(centres), classes, *small_sets, TrainConfig(epochs=1, batch_size=50), progress=True)
    assert 'train' in capsys.readouterr().err


@pytest.mark.parametrize('field,value', [
    ('epochs', 0), ('epochs', -1), ('epochs', '2'), ('epochs', 2.0), ('epochs', True), ('batch_size', 0),
    ('batch_size', -5), ('save_every', 0), ('seed', -1), ('seed', 2 ** 32), ('learn_rate', -0.1),
    ('learn_rate', float('nan')), ('learn_rate', float('inf')), ('weight_decay', -1e-4), ('warmup', -1),
    ('warmup', float('inf')), ('ema', 1.0), ('ema', -0.1), ('label_smoothing', 1), ('lr_schedule', 'cos'),
    ('augment', 'flip'), ('augment', ('hflip', 'h')), ('amp', 'fast'), ('compile', 'yes')])
def test_train_config_refuses_what_cannot_train_naming_the_field(field, value):
    with pytest.raises(InputError) as e:
        TrainConfig(**{field: value})
    assert e.value.fields == (field,)


def test_train_config_takes_one_augmentation_by_name_and_a_learning_rate_of_zero():
    assert TrainConfig(augment='hflip').augment == ('hflip',)  # not the letters 'h', 'f', ...
    assert TrainConfig(augment=['hflip', 'shift']).augment == ('hflip', 'shift')
    assert TrainConfig(learn_rate=0, epochs=np.int64(2), amp=True).epochs == 2  # 0: BatchNorm statistics only
