"""Weights reconciled with settings: what a weights file says it holds (or, for the assignment's files, what is
given), each setting given agreeing with it, the target's kind agreeing with the network, and the settings' own
types and bounds, each refusal an InputError naming the keyword. colorlib.api's load and fit, and the commands,
open weights and start runs through here."""
import dataclasses
from pathlib import Path
from typing import NamedTuple

from colorlib import shipped
from colorlib.checkpoints import load_weights, read_about, read_palette, read_weights, summarize
from colorlib.errors import InputError, check_path, with_fields
from colorlib.memory import check_fits
from colorlib.models import MODELS, ModelConfig, build_model, network_settings
from colorlib.naming import weights_name
from colorlib.targets import TARGETS, TASKS, TargetConfig, build_target, noted_fields, palette_keys
from colorlib.targets import target_settings as declared_target_settings



def model_fields():
    """What of a ModelConfig one chooses (the rest follow the target): the network, its kernel and filters, and the
    networks' own settings (models.network_settings)."""
    return ('name', 'kernel', 'filters', *network_settings())


def own_settings(settings):
    """(the networks' own settings among keyword `settings`, the rest): split off, so that each goes its way."""
    declared = network_settings()
    return ({k: v for k, v in settings.items() if k in declared},
            {k: v for k, v in settings.items() if k not in declared})


def kind_settings(settings):
    """(the target kinds' own settings among keyword `settings` (targets.target_settings), the rest)."""
    declared = declared_target_settings()
    return ({k: v for k, v in settings.items() if k in declared},
            {k: v for k, v in settings.items() if k not in declared})


class Opened(NamedTuple):
    """A weights file opened (open_weights): its network (on the CPU, eval mode not yet set), the target it learns,
    the path and how it was trained (where it says)."""
    net: object
    target: object
    path: object
    run: object


def target_config(model=ModelConfig.name, **settings):
    """The TargetConfig of `settings`, its kind by default the one the model is made for (RGB for the
    RegressionCNN), else colour classes; a kind the model is not made for is an InputError."""
    made_for = MODELS[model].predicts if model in MODELS else None
    given = {k: v for k, v in settings.items() if v is not None}
    config = TargetConfig(**{'kind': made_for or TargetConfig.kind, **given})
    if made_for and config.kind != made_for:
        others = [name for name, network in MODELS.items() if network.predicts is None]
        raise InputError(f'the {model} predicts {made_for.upper()} only; for {config.kind} use a '
                         f'{", ".join(others[:-1])} or {others[-1]}', ['target.kind'], {'target.kind': made_for})
    return config


def model_config(target, name=ModelConfig.name, kernel=ModelConfig.kernel, filters=ModelConfig.filters,
                 **own):
    """The ModelConfig of a network of `name` that learns `target` (its outputs and inputs follow the target); `own`:
    the network's own settings (the declared defaults where not given)."""
    return ModelConfig(name=name, kernel=kernel, filters=filters, out_channels=target.out_channels,
                       in_channels=target.in_channels, **own)


def weights_path(weights):
    """A path to weights as given, or the shipped weights of that name ('unet', 'unet_k3_f32', ...)."""
    check_path(weights, 'weights')
    if Path(weights).suffix or Path(weights).exists():
        return Path(weights)
    stem = str(weights)
    return shipped.weights(stem if '_k' in stem else f'{stem}_k3_f32')


def agree(path, said, given, what):
    """Settings from what the weights say, and from what is given: each given one must agree with the file."""
    settings = dict(said)
    for name, value in given.items():
        if value is None:
            continue
        if name in said and said[name] != value:
            raise InputError(f'{path} holds a {what} with {name} {said[name]!r}, not {value!r}',
                             [('model' if name == 'name' else name) if what == 'model' else f'target.{name}'])
        settings[name] = value
    return settings


def open_weights(path, model=None, kernel=None, filters=None, colours=None, bins=None, temperature=None, device='cpu',
                 field='weights', **settings):
    """The network and target in the weights file `path` (an Opened; colorlib.api makes it a Model): what the file
    says it holds (our files) or, for the assignment's, what is given (else the defaults: a 3x3 UNet of 32 filters
    over the shipped colours). A setting given that the file
    contradicts is an InputError naming it. The colours are `colours`/`bins` where given (they win), else those
    stored with the weights, else the shipped ones, which must then be those the weights were trained on where the
    file says which. `field`: the setting that gave the path, named by a refusal of the file itself. `settings`: the
    network's own (models.network_settings) and the target's."""
    own, target_settings = own_settings(settings)
    check_model_settings(dict(kernel=kernel, filters=filters, **own), model)  # before the file is read
    check_target_settings(colours=colours, bins=bins, temperature=temperature, **target_settings)
    if model is not None and target_settings.get('kind') is not None:  # a kind the model is not made for
        target_config(model, kind=target_settings['kind'])
    kind = target_settings.get('kind') or getattr(MODELS.get(model), 'predicts', None)
    given = {**target_settings, 'colours': colours, 'bins': bins}  # the palette files given, by setting
    for target in TARGETS.values():  # the palette files given are read first, the weights only then (a kind with
        # no classes never reads them: the regression CNN takes the assignment's -c and does not need it)
        file = given.get(target.palette_setting)
        if file is not None and (kind is None or TARGETS[kind].palette_setting is not None):
            with_fields([f'target.{target.palette_setting}'], target.read_file, file)
    state = read_weights(path)
    about, palette = read_about(path, state), read_palette(path, state)
    saved_model = {k: getattr(about['model'], k) for k in model_fields()} if 'model' in about else {}
    given = dict(name=model, kernel=kernel, filters=filters, **own)
    shapes = summarize(state) if not saved_model else None  # the assignment's files: the sizes their tensors have
    agree(path, {k: shapes[k] for k in ('kernel', 'filters')} if shapes else {}, given, 'model')
    chosen = agree(path, saved_model, given, 'model')
    saved_target = {k: about['target'][k] for k in noted_fields()} if 'target' in about else {}
    target_settings = agree(path, saved_target, target_settings, 'target')
    edited = f'{path} says it holds a {chosen.get("name", "network")} that learns {saved_target.get("kind")}'
    try:
        config = target_config(chosen.get('name', ModelConfig.name), colours=colours, bins=bins,
                               temperature=temperature, **target_settings)
    except InputError as err:
        if saved_target and 'target.kind' in err.fields:  # the file contradicts itself
            raise InputError(f'{edited}, which cannot be ({err}): its notes were edited, or it is damaged') from None
        raise
    target = build_target(config, palette=palette)
    outputs = state['finalconv.bias'].shape[0] if 'finalconv.bias' in state else None
    if outputs is not None and outputs != target.out_channels and saved_target and not any(
            getattr(config, t.palette_setting) for t in TARGETS.values() if t.palette_setting):
        raise InputError(f'{edited}, but its network has {outputs} outputs where {config.kind} has '
                         f'{target.out_channels}: its notes were edited, or it is damaged')  # colours given: below
    trained_on = about.get('target', {}).get('palette')  # checked where the colours are not given: given ones win
    described = target.describe()
    file = target.palette_setting  # the setting naming its classes' file: 'colours', 'bins' (None: no classes)
    given = getattr(config, file) if file else None
    if trained_on and not given and trained_on != described.get(file):
        raise InputError(f'{path} was trained on other {file} than {getattr(config, file) or "the shipped ones"}',
                         [f'target.{file}'])
    config = model_config(target, **chosen)
    check_fits(config, 'load', device, chosen=(), source=path, source_field=field)  # before the model is built
    if saved_model:  # a file that says its sizes; the assignment's are checked tensor by tensor (load_weights)
        check_holds(path, state, config)
    net = build_model(config)
    load_weights(net, path, state)
    return Opened(net, target, path, about.get('run'))


def check_holds(path, state, config, field='weights'):
    """An InputError naming `field` where the model of `config` has more parameters than `state` holds numbers: a
    file that says it holds a network larger than it does (filters=10000 in a few bytes) is refused before that
    network is built in memory, not after (memory.parameter_count counts on the meta device)."""
    from colorlib.memory import parameter_count
    held = sum(v.numel() for k, v in state.items() if not k.startswith(palette_keys()))
    needed = parameter_count(config)
    if needed > held:
        raise InputError(f'{path} says it holds a {config.name} of {config.filters} filters ({needed} parameters), '
                         f'but holds {held} numbers', [field])




def load_settings():
    """What load(path, ...) takes: the settings a file may not say."""
    return ('model', 'kernel', 'filters', *network_settings(), *target_fields())


def target_fields():
    """The target's keywords: its kind, its task and every registered kind's own settings (targets.target_settings)."""
    return ('kind', 'task', *declared_target_settings())


def check_model_settings(sizes, model=None):
    """The model's settings given as keywords (None: not given), refused as ModelConfig refuses them, naming the
    keyword (`model` for the network's name)."""
    given = {k: v for k, v in sizes.items() if v is not None}
    try:
        ModelConfig(**given, **({} if model is None else {'name': model}))
    except InputError as err:
        err.fields = tuple('model' if f == 'name' else f for f in err.fields)
        raise


def check_target_settings(**settings):
    """The target's settings given as keywords (None: not given), each of its type and bounds (TargetConfig's
    checks, made whatever the kind), naming the keyword."""
    for name, setting in declared_target_settings().items():
        if settings.get(name) is not None:
            setting.check(settings[name])
    for name, choices in (('kind', tuple(TARGETS)), ('task', TASKS)):
        if settings.get(name) is not None and settings[name] not in choices:
            raise InputError(f'unknown {name} {settings[name]!r} (choose from {", ".join(choices)})', [name])


def shipped_weights(model=None, kernel=None, filters=None, **settings):
    """The shipped weights file of the model these settings describe (ModelConfig's defaults where not given)."""
    own, target_settings = own_settings(settings)
    check_model_settings(dict(kernel=kernel, filters=filters, **own), model)  # as that, not as no file
    chosen = ModelConfig(**{k: v for k, v in dict(name=model, kernel=kernel, filters=filters).items() if v is not None})
    settings = {k: v for k, v in target_settings.items() if k in target_fields()}
    config = target_config(chosen.name, **settings)
    return shipped.weights(weights_name(chosen.name, config, chosen.kernel, chosen.filters))


def start_from(init, chosen, target, target_settings, device):
    """fit's (init, target, chosen model settings) where it starts from weights (`init`, a path or a Model): the
    file's (or Model's) network and target, the settings given agreeing with them (open_weights' rule, and agree()
    for a Model); a file's refusal names init as its `source`. Without init, as given."""
    if isinstance(init, (str, Path)):
        model_settings = {'model': chosen.get('name'), **{k: chosen.get(k) for k in model_fields()[1:]}}
        try:
            init = open_weights(init, **model_settings, device=device, **target_settings, field='init')
        except InputError as err:  # the file given as init, and the settings it names where it contradicts them
            err.source, err.fields = 'init', err.fields or ('init',)
            raise
    elif init is not None:  # a Model: what is given must agree with it, as with a file (open_weights)
        where = init.path or f'the {init.run_name} model'
        agree(where, {k: getattr(init.net.config, k) for k in model_fields()}, chosen, 'model')
        agree(where, {k: getattr(init.target.config, k) for k in noted_fields()},
              {k: target_settings.get(k) for k in noted_fields()}, 'target')
        choices = {k: target_settings.get(k) for k in declared_target_settings() if k not in noted_fields()
                   and target_settings.get(k) is not None}
        if target is None and choices:  # the choices of use given win, as open_weights takes them
            kept = init.target.palette_state() if init.target.keeps_palette else {}  # else its file's or shipped
            target = build_target(dataclasses.replace(init.target.config, **choices), palette=kept)
    if init is not None:
        target = init.target if target is None else target
        chosen = {k: getattr(init.net.config, k) for k in model_fields()}
    return init, target, chosen
