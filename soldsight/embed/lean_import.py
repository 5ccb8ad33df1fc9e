"""Import TensorFlow and Keras without the optional extras they load when installed.

At import, Keras loads scikit-learn (for its scikit-learn wrappers) and matplotlib.pyplot (for an image
gallery plot) whenever they are installed; both are, here (tests and `soldsight map`), and soldsight uses
neither through Keras. Measured on 2026-12-01: 1.8 s of `import tensorflow`'s 4.7 s, in a command whose
whole cold start should be under 6 s. Keras guards both imports with `except ImportError`, so hiding the
modules while it imports is enough; they are importable again afterwards.
"""
from __future__ import annotations

import sys
from contextlib import contextmanager

EXTRAS = ("sklearn", "matplotlib.pyplot")


@contextmanager
def without_keras_extras():
    hidden = [name for name in EXTRAS if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # makes `import name` raise ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name, 0) is None:
                del sys.modules[name]
