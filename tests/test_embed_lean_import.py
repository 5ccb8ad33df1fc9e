"""TensorFlow and Keras load without the scikit-learn and matplotlib.pyplot imports soldsight never uses."""
from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from soldsight.embed.lean_import import without_keras_extras
with without_keras_extras():
    import keras
print("sklearn" in sys.modules, "matplotlib.pyplot" in sys.modules)
import sklearn, matplotlib.pyplot  # still importable afterwards, e.g. for `soldsight map`
print(sklearn.__name__, matplotlib.pyplot.__name__)
"""


def test_keras_imports_without_its_optional_extras():
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": ""}).stdout.split("\n")
    assert out[0] == "False False"
    assert out[1] == "sklearn matplotlib.pyplot"


def test_extras_already_imported_stay_imported():
    from soldsight.embed.lean_import import without_keras_extras

    import sklearn  # noqa: F401

    with without_keras_extras():
        import sklearn as again
    assert again is sys.modules["sklearn"] and sys.modules["sklearn"] is not None
