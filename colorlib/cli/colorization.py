"""colorization.py and color_regression.py: train a colourization or super-resolution CNN, or validate one."""
import argparse
import contextlib
import dataclasses
import signal
import sys
from pathlib import Path

from colorlib import api, distributed
from colorlib.cli import recipes
from colorlib.cli.build import image_keywords, model_keywords, said_values, target_keywords
from colorlib.cli.common import (OneLineParser, UsageError, add_data_flags, add_device_flags, add_lab_flags,
                                 add_model_flags, add_run_flags, add_task_flags, add_training_flags, category_list,
                                 flag_of, in_flag_terms, mismatch, places, run_command)
from colorlib.errors import (ConfigMismatch, FileExists, InputError, NonFiniteLoss, RunExists, WeightsNotSaved,
                             WriteError)
from colorlib.models import MODELS
from colorlib.preemption import catch_stop_signals
from colorlib.recipes import RECIPES
from colorlib.report import lines
from colorlib.targets import TARGETS, TargetConfig
from colorlib.train import Interrupted, TrainConfig

TRAINED = tuple(f.name for f in dataclasses.fields(TrainConfig))  # what --valid says of how weights were trained


def build_parser(regression=False, prog=None):
    prog = prog or ('color_regression.py' if regression else 'colorization.py')
    what = 'RGB regression' if regression else 'colour-class'
    parser = OneLineParser(prog=prog, description=f'Train or validate a {what} colourization CNN on CIFAR-10 or on your own pictures.',
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    # the RegressionCNN's own command; the others learn any target
    models = [name for name, network in MODELS.items() if (network.predicts == 'rgb') == regression]
    add_model_flags(parser, 'weights to validate with --valid (default: the shipped ones), or where training saves '
                            'them', models, models[0] if regression else None)
    add_task_flags(parser, loss=not regression)
    parser.add_argument('--valid', action='store_true', help='evaluate --checkpoint on the test images, no training')
    parser.add_argument('--legacy-eval', '--legacy', dest='legacy', action='store_true',
                        help="with --valid: the assignment's figures (BatchNorm in training mode, its test order)")
    add_training_flags(parser)
    add_device_flags(parser)
    parser.add_argument('--recipe', choices=list(RECIPES), default='assignment',
                        help='a named set of training flags (listed below); flags given explicitly win')
    parser.add_argument('--tta', '--flips', dest='flips', action='store_true',
                        help='with --valid: also the figures of the model averaged with its mirror image, apart')
    parser.add_argument('--extra-categories', type=category_list, default=[],
                        help='also train on these CIFAR-10 classes (e.g. deer,dog, or all: every other class; needs '
                             'the full --data)')
    add_run_flags(parser)
    if not regression:
        add_lab_flags(parser, training=True)
    add_data_flags(parser)
    parser.epilog = f'recipes (--recipe; a flag given wins over its recipe):\n{recipes.describe(parser)}'
    return parser


def train_settings(args, given):
    """The recipe and the TrainConfig fields the flags `given` set, as the keywords colorlib.fit takes (each flag's
    dest is its field): the library's recipe, then its defaults, fill the rest."""
    return {'recipe': args.recipe, **{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)
                                      if f.name in given}}


def given_flags(parser, argv):
    """The dests of the flags on the command line: argparse fills a dest with its default only where the namespace
    has none, so those left as the marker were not given."""
    unset = object()
    namespace = argparse.Namespace(**{action.dest: unset for action in parser._actions})
    return {dest for dest, value in vars(parser.parse_args(argv, namespace)).items() if value is not unset}


def check_flags(args):
    """What flags alone can tell, before anything is read."""
    if args.legacy and not args.valid:
        raise UsageError('--legacy-eval only applies with --valid')
    if args.flips and not args.valid:
        raise UsageError('--tta only applies with --valid')
    if args.init and (args.valid or args.resume):
        raise UsageError(f'--init starts a training run; leave it out with {"--valid" if args.valid else "--resume"}')
    if args.valid and distributed.launched_by_torchrun():
        raise UsageError('--valid runs in one process: start it with python, not torchrun')
    space = getattr(args, 'colour_space', None)
    if args.legacy and not all(t.assignment for t in TARGETS.values() if t.space == space):
        raise UsageError(f'--legacy-eval reproduces the assignment, which has no --colour-space {space}')


def run(args, given):
    """--valid or a training run, as the flags say; `given`: the dests of those on the command line."""
    check_flags(args)
    return validate(args) if args.valid else train_run(args, given)


def validate(args):
    """--valid: the figures of --checkpoint (or the shipped weights) on the test images, and a sample grid in
    outputs/: one call of colorlib.evaluate, which checks the flags' settings before it reads any file."""
    with places(values=said_values(args), said={'samples_dir': '--valid'}):
        done = api.evaluate(args.checkpoint, **model_keywords(args), **target_keywords(args), **image_keywords(args),
                            extra_categories=args.extra_categories, log=print, legacy=args.legacy, flips=args.flips,
                            batch_size=args.batch_size, seed=args.seed, amp=args.amp, samples_dir='outputs',
                            device=args.device)
    model, result = done.model, done.figures
    print(f'Evaluating Model {model.config.name}: {model.path}')
    if model.run:  # how the weights were trained, where they say it (ours, since the run's description is kept)
        run = model.run
        print(f'Trained with {spelled(run)} on {run.get("data.images")} images (digest {run.get("data.digest")}), '
              f'{run.get("processes")} process(es), colorlib {run.get("colorlib")}')
    for line in lines(result):
        print(line)
    print(f'Sample output available at: {result["samples"]}')


def train_run(args, given):
    """Train as the flags say: one call of colorlib.fit, which reads the images, builds the model, checks the
    places and writes the run's files and the weights."""
    out_dir = Path('outputs') / args.experiment_name if args.experiment_name else None
    with catch_stop_signals() as stop_signal, training_errors(args, stop_signal):
        api.fit(**model_keywords(args), **target_keywords(args), **image_keywords(args),
                extra_categories=args.extra_categories, init=args.init, out_dir=out_dir,
                runs_dir='outputs', weights=args.checkpoint, resume=args.resume, overwrite=args.overwrite,
                epoch_samples=args.epoch_samples, sync_bn=args.sync_bn, log=lambda line: print(line, flush=True),
                device=args.device, stop_signal=stop_signal, **train_settings(args, given))


def spelled(run):
    """A run's training settings (checkpoints.describe_run) as the flags that give them: those switched off and
    empty lists left out."""
    def value(v):
        return '' if v is True else f' {",".join(v)}' if isinstance(v, (list, tuple)) else f' {v}'
    return ' '.join(f'{flag_of(k)}{value(run[k])}' for k in TRAINED if run.get(k) not in (None, False, (), []))


@contextlib.contextmanager
def training_errors(args, stop_signal):
    """colorlib.fit's refusals, failures and interruptions in flag terms."""
    values = {**said_values(args), 'target.task': args.task or TargetConfig.task}
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
        if err.fields == ('recipe',):  # 'recipe best: ...', said with the flag
            raise UsageError(f'--{err}') from None
        raise UsageError(in_flag_terms(err, None if err.fields else '--resume', values)) from None
    except NonFiniteLoss as err:
        raise UsageError(f'-l/--learn-rate: {err}; a smaller learning rate may train') from None
    except Interrupted as stop:
        if distributed.rank() == 0:
            print(f'{stop}; run the same command with --resume to continue', flush=True)
        sys.exit(128 + (stop_signal() or signal.SIGTERM))  # what the shell reports for a death by that signal
    except KeyboardInterrupt as stop:  # its argument: the run's resume.pt (colorlib.fit)
        state = Path(stop.args[0]) if stop.args else None
        kept = f'{state} holds the last saved epoch; --resume continues it' if state and state.is_file() else \
            'nothing saved'
        raise KeyboardInterrupt(kept) from None


def main(argv=None, prog=None, regression=False):
    parser = build_parser(regression, prog)
    run_command(parser, lambda args: run(args, given_flags(parser, argv)), argv)


def main_regression(argv=None, prog=None):
    main(argv, prog, regression=True)
