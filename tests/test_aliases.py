"""Old module paths keep working after a move: the alias is the moved module itself."""

import importlib
import subprocess
import sys

import pytest

from baselines_tf2._aliases import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_path_imports_the_moved_module_itself(old):
    assert importlib.import_module(old) is importlib.import_module(MOVED[old])


def test_old_names_of_the_config_modules_work_in_a_fresh_process_without_tensorflow():
    code = (
        "import sys; from baselines_tf2.config_keywords import split_settings; "
        "from baselines_tf2.validation import one_of; from baselines_tf2.config import PPOConfig, split_settings as s; "
        "assert split_settings is s; assert 'tensorflow' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_name_that_never_existed_is_still_an_import_error():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("baselines_tf2.common.no_such_module")
