import pytest

from training.length_study import STUDIES
from training.recipes import RECIPES
from training.task import LengthStudy, Task
from zoo.presets import preset_names


def test_every_preset_has_a_recipe():
    assert sorted(RECIPES) == preset_names()


@pytest.mark.parametrize("name", RECIPES)
def test_every_recipe_names_a_task_module_with_the_declared_interface(name):
    assert isinstance(RECIPES[name].task_module, Task)
    assert RECIPES[name].settings()["model_class"] == RECIPES[name].model_class and "task_module" not in RECIPES[name].settings()


@pytest.mark.parametrize("study", STUDIES)
def test_every_length_study_compares_presets_of_one_task_that_declares_how(study):
    modules = {RECIPES[name].task_module for name in STUDIES[study]}
    assert len(modules) == 1 and isinstance(modules.pop(), LengthStudy)
