"""Tests for colorlib.recipes: fit(recipe=...) from Python trains with the recipe's settings, a keyword given wins
over it, a recipe written per run follows the model and target, and a recipe it cannot use is an InputError naming
'recipe'."""
import pytest

import colorlib
from colorlib import reference
from colorlib.api import recipe_run
from colorlib.errors import InputError
from colorlib.recipes import RECIPES, recipe_settings
from colorlib.targets import TargetConfig


def tiny_fit(horses, **settings):
    return colorlib.fit(model='CNN', filters=4, train_x=horses[0][:32], test_x=horses[1][:16], device='cpu',
                        **settings)


def test_fit_trains_with_its_recipe_and_a_keyword_given_wins(horses):
    run = tiny_fit(horses, recipe='fast', epochs=1).model.about['run']  # the fast recipe, for one epoch
    assert (run['epochs'], run['batch_size'], run['learn_rate'], run['lr_schedule'], run['warmup']) == (
        1, 16, 0.04, 'cosine', 0.4)
    model = tiny_fit(horses, recipe='best', epochs=1, batch_size=8).model  # best for the CNN
    run = model.about['run']
    assert (run['epochs'], run['batch_size'], run['ema'], tuple(run['augment'])) == (1, 8, 0.999, ('hflip', 'shift'))
    run = model.fit(recipe='best', epochs=1, train_x=horses[0][:32], test_x=horses[1][:16]).model.about['run']
    assert (run['batch_size'], run['ema']) == (100, 0.999)  # Model.fit takes it too
    name, target = recipe_run({'init': model, 'model': None, 'target': None}, {})  # the run's, from the Model
    assert recipe_settings('best', name, target)['epochs'] == 50  # the CNN's (the UNet's is 100)
    run = tiny_fit(horses, epochs=1).model.about['run']  # no recipe: the library's defaults
    assert (run['batch_size'], run['learn_rate'], run['lr_schedule']) == (100, 0.001, 'constant')


def test_a_recipe_it_cannot_use_is_an_input_error_naming_recipe(horses):
    with pytest.raises(InputError, match=r"unknown recipe 'fsat' .*did you mean fast\?") as refused:
        tiny_fit(horses, recipe='fsat')
    assert refused.value.fields == ('recipe',)
    with pytest.raises(InputError, match=r'^recipe best: no recipe of that name for superres_dunet \(it has unet,'):
        colorlib.fit(model='DUNet', task='superres', recipe='best', train_x=horses[0][:32], test_x=horses[1][:16])
    with pytest.raises(InputError) as refused:
        recipe_settings(['fast'])
    assert refused.value.fields == ('recipe',)


def test_a_recipe_per_run_follows_the_model_and_target():
    assert recipe_settings('best', 'CNN', TargetConfig())['epochs'] == 50
    assert recipe_settings('best', 'UNet', TargetConfig(kind='rgb', task='superres'))['batch_size'] == 25
    assert recipe_settings('fast', 'DUNet', TargetConfig(task='superres')) == RECIPES['fast']['*']
    assert recipe_settings('assignment') == {}


def test_the_reference_recipe_is_the_fast_one_with_its_two_differences():
    differs = {k for k in {*reference.RECIPE, *RECIPES['fast']['*']}
               if reference.RECIPE.get(k) != RECIPES['fast']['*'].get(k)}
    assert differs == {'learn_rate', 'augment'}
