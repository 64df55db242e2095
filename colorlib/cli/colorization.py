"""colorization.py and color_regression.py: train a colourization or super-resolution CNN, or validate one."""
import argparse
import contextlib
import signal
import sys
from pathlib import Path

import torch

from colorlib import api, distributed
from colorlib.augment import AUGMENTATIONS
from colorlib.cli import recipes
from colorlib.cli.build import (check_output, load_images, make_target, model_config, open_model, open_weights,
                                pick_device, read_files)
from colorlib.cli.common import (OneLineParser, UsageError, a_path, add_data_flags, add_device_flags, add_lab_flags,
                                 add_model_flags, add_task_flags, augmentation_list, category_list, finite_float, flag,
                                 folder_name, in_flag_terms, int_at_least, mismatch, run_command, seed,
                                 with_model_defaults)
from colorlib.data import is_cifar10
from colorlib.errors import (ConfigMismatch, FileExists, InputError, NonFiniteLoss, RunExists, WeightsNotSaved,
                             WriteError)
from colorlib.machine import PRECISIONS, use_bf16
from colorlib.models import MODELS
from colorlib.naming import RESUME_FILE, run_name, weights_name
from colorlib.plots import save_figure
from colorlib.preemption import catch_stop_signals
from colorlib.report import lines
from colorlib.train import LR_SCHEDULES, Interrupted

EVAL_LABELS = {'RegressionCNN': 'regression'}  # the assignment's eval_<model>.png names


def build_parser(regression=False, prog=None):
    prog = prog or ('color_regression.py' if regression else 'colorization.py')
    what = 'RGB regression' if regression else 'colour-class'
    parser = OneLineParser(prog=prog, description=f'Train or validate a {what} colourization CNN on CIFAR-10 or on your own pictures.',
                           epilog=f'recipes (--recipe; a flag given wins over its recipe):\n{recipes.describe()}',
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    # the RegressionCNN's own command; the others learn any target
    models = [name for name, network in MODELS.items() if (network.predicts == 'rgb') == regression]
    add_model_flags(parser, 'weights to validate with --valid (default: the shipped ones), or where training saves '
                            'them', models, models[0] if regression else None)
    add_task_flags(parser, loss=not regression)
    parser.add_argument('--valid', action='store_true', help='evaluate --checkpoint on the test images, no training')
    parser.add_argument('--init', metavar='CHECKPOINT', type=a_path,
                        help='start training from these weights (fine-tuning, e.g. the shipped ones on your pictures)')
    parser.add_argument('--legacy-eval', action='store_true',
                        help="with --valid: the assignment's figures (BatchNorm in training mode, its test order)")
    parser.add_argument('-l', '--learn-rate', '--learn_rate', dest='learn_rate', type=finite_float(0), default=0.001)
    parser.add_argument('-b', '--batch-size', '--batch_size', dest='batch_size', type=int_at_least(1), default=100)
    parser.add_argument('-e', '--epochs', type=int_at_least(1), default=25)
    parser.add_argument('-s', '--seed', type=seed, default=0)
    add_device_flags(parser)
    parser.add_argument('--amp', nargs='?', const='on', default='off', choices=PRECISIONS,
                        help='bfloat16 mixed precision (autocast): auto uses it only where the device has bfloat16 '
                             'arithmetic (recipes ask for auto); --amp alone is on (emulated, slow, on a CPU without '
                             'it)')
    parser.add_argument('--no-amp', dest='amp', action='store_const', const='off', help='same as --amp off')
    parser.add_argument('--compile', action='store_true', help='torch.compile the model (pays off for long runs)')
    parser.add_argument('--plot', action='store_true', help='write a sample grid after every epoch')
    parser.add_argument('--recipe', choices=list(recipes.RECIPES), default='assignment',
                        help='a named set of training flags (listed below); flags given explicitly win')
    parser.add_argument('--lr-schedule', choices=LR_SCHEDULES, default='constant',
                        help='constant (the assignment), or annealed to zero over the run on a cosine or a line')
    parser.add_argument('--warmup', type=finite_float(0, inclusive=True), default=0.0, metavar='EPOCHS',
                        help='raise the learning rate linearly from near zero over this many epochs first')
    parser.add_argument('--ema', type=finite_float(0, inclusive=True, high=0.99999), default=0.0, metavar='DECAY',
                        help='evaluate and keep an exponential moving average of the weights (e.g. 0.99; 0: none)')
    parser.add_argument('--label-smoothing', type=finite_float(0, inclusive=True, high=0.99), default=0.0,
                        metavar='EPS', help='colour classes: train against targets smoothed by EPS (0: none)')
    parser.add_argument('--tta', action='store_true',
                        help='with --valid: also the figures of the model averaged with its mirror image, apart')
    parser.add_argument('--weight-decay', type=finite_float(0, inclusive=True), default=0.0,
                        help='decoupled (AdamW) weight decay')
    parser.add_argument('--augment', type=augmentation_list, default=(),
                        help=f'random {", ".join(AUGMENTATIONS)} of the training images, comma-separated, or none '
                             '(to take away a recipe\'s)')
    parser.add_argument('--extra-categories', type=category_list, default=[],
                        help='also train on these CIFAR-10 classes (e.g. deer,dog, or all: every other class; needs the '
                             'full --data)')
    parser.add_argument('--experiment-name', '--experiment_name', dest='experiment_name', type=folder_name,
                        help='folder under outputs/, a plain name (default: model_k<kernel>_f<filters>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the run saved in outputs/<experiment>/resume.pt (same flags)')
    parser.add_argument('--overwrite', action='store_true',
                        help='replace an existing --checkpoint, or start an experiment folder that holds a run again')
    parser.add_argument('--save-every', type=int_at_least(1), default=1,
                        help='write outputs/<experiment>/resume.pt every N epochs (and after the last)')
    parser.add_argument('--sync-bn', action='store_true',
                        help='under torchrun on GPUs: BatchNorm statistics over the global batch (SyncBatchNorm)')
    if not regression:
        add_lab_flags(parser, training=True)
    add_data_flags(parser)
    return parser


def train_settings(args):
    """The TrainConfig fields the flags give, as the keywords colorlib.fit takes."""
    return dict(epochs=args.epochs, batch_size=args.batch_size, learn_rate=args.learn_rate, seed=args.seed,
                lr_schedule=args.lr_schedule, weight_decay=args.weight_decay, augment=args.augment, amp=args.amp,
                compile=args.compile, save_every=args.save_every, warmup=args.warmup, ema=args.ema,
                label_smoothing=args.label_smoothing)


def check_flags(args):
    """What flags alone can tell, before anything is read."""
    if args.legacy_eval and not args.valid:
        raise UsageError('--legacy-eval only applies with --valid')
    if args.tta and not args.valid:
        raise UsageError('--tta only applies with --valid')
    if args.init and (args.valid or args.resume):
        raise UsageError(f'--init starts a training run; leave it out with {"--valid" if args.valid else "--resume"}')
    if args.valid and distributed.launched_by_torchrun():
        raise UsageError('--valid runs in one process: start it with python, not torchrun')
    if args.legacy_eval and getattr(args, 'colour_space', None) == 'lab':
        raise UsageError('--legacy-eval reproduces the assignment, which has no --colour-space lab')


def run(args):
    check_flags(args)
    device = distributed.setup(pick_device(args.device))
    if args.sync_bn and distributed.active() and device.type != 'cuda':
        raise UsageError("--sync-bn: PyTorch's SyncBatchNorm runs on GPUs only; on the CPU leave it out "
                         "(each process then normalises with its own batch's statistics)")
    torch.manual_seed(args.seed)
    return (validate if args.valid else train_run)(args, device)


def validate(args, device):
    """--valid: the figures of --checkpoint (or the shipped weights) on the test images, and a sample grid."""
    checkpoint, model = open_model(args, device)
    if args.legacy_eval and model.target.kind == 'lab':
        raise UsageError(f'--legacy-eval reproduces the assignment, which has no Lab bins ({checkpoint} holds them)')
    train_x, test_x = load_images(args, device)
    label = EVAL_LABELS.get(model.config.name, model.config.name)
    grid = Path('outputs') / f'eval_{run_name(model.config.name, model.target.config, label)}.png'
    reads = read_files(args, checkpoint)
    check_output(grid, '--valid', reads, overwrite=True)  # an earlier picture of that name is replaced
    print(f'Evaluating Model {model.config.name}: {checkpoint}')
    with flag('--valid'):
        result = model.evaluate(test_x, args.legacy_eval, args.tta, args.batch_size, args.seed, len(train_x),
                                amp=use_bf16(device, args.amp)[0])
    for line in lines(result):
        print(line)
    with flag('--valid'):
        print(f'Sample output available at: {save_figure(model.samples(test_x), grid, replace=True, reads=reads)}')


def train_run(args, device):
    """Train a model as the flags say: the target, the model's size and the output places from the flags, checked,
    then colorlib.fit, which writes the run's files and the weights."""
    init = open_init(args, device) if args.init else None
    with_model_defaults(args)
    train_x, test_x = load_images(args, device)
    if init is not None:
        target = init.target
    else:  # a new run on one's own pictures fits the colours on them
        target = make_target(args, fit_on=None if is_cifar10(args.data) else train_x)
    config = model_config(args, target)
    out_dir = Path('outputs') / (args.experiment_name or weights_name(config.name, target.config, config.kernel,
                                                                      config.filters))
    state = out_dir / RESUME_FILE
    with catch_stop_signals() as stop_signal, training_errors(state, stop_signal):
        api.fit(config.name, kernel=config.kernel, filters=config.filters, dilation=config.dilation, target=target,
                init=init, train_x=train_x, test_x=test_x, data=args.data, colours=args.colours,
                bins=getattr(args, 'bins', None), out_dir=out_dir, weights=args.checkpoint, resume=args.resume,
                overwrite=args.overwrite, epoch_samples=args.plot, sync_bn=args.sync_bn,
                log=lambda line: print(line, flush=True), device=device, stop_signal=stop_signal,
                **train_settings(args))


def open_init(args, device):
    """--init's weights as a Model: what the file says it holds (our files), the flags given filling what it does not
    say (the assignment's files) and refused where they contradict it. The model's flags then say what it holds."""
    init = open_weights(args, args.init, '--init', device)
    args.model, args.kernel, args.num_filters, args.dilation = (init.config.name, init.config.kernel,
                                                                init.config.filters, init.config.dilation)
    return init


@contextlib.contextmanager
def training_errors(state, stop_signal):
    """colorlib.fit's refusals, failures and interruptions in flag terms; `state` is the run's resume.pt."""
    try:
        yield
    except ConfigMismatch as err:
        raise UsageError(f'--resume: {mismatch(err)}; resume with the same flags') from None
    except RunExists as err:
        resume = '--resume continues it, ' if err.resumable else ''
        raise UsageError(f'--experiment-name: {err.folder} holds a run ({err.said}); {resume}--overwrite starts it '
                         'again') from None
    except WeightsNotSaved as err:
        raise UsageError(f'--checkpoint: {err} (--resume with another --checkpoint saves it)') from None
    except FileExists as err:  # found before the first step
        raise UsageError(f'{in_flag_terms(err, None if err.fields else "--checkpoint")}; give --overwrite to '
                         'replace it') from None
    except WriteError as err:  # the run's folder, where no setting is named
        raise UsageError(in_flag_terms(err, None if err.fields else '--experiment-name')) from None
    except InputError as err:  # the saved run, where no setting is named
        raise UsageError(in_flag_terms(err, None if err.fields else '--resume')) from None
    except NonFiniteLoss as err:
        raise UsageError(f'-l/--learn-rate: {err}; a smaller learning rate may train') from None
    except Interrupted as stop:
        if distributed.rank() == 0:
            print(f'{stop}; run the same command with --resume to continue', flush=True)
        sys.exit(128 + (stop_signal() or signal.SIGTERM))  # what the shell reports for a death by that signal
    except KeyboardInterrupt:
        kept = f'{state} holds the last saved epoch; --resume continues it' if state.is_file() else 'nothing saved'
        raise KeyboardInterrupt(kept) from None


def main(argv=None, prog=None, regression=False):
    parser = build_parser(regression, prog)
    run_command(parser, lambda args: run(recipes.with_recipe(parser, argv, args)), argv)


def main_regression(argv=None, prog=None):
    main(argv, prog, regression=True)
