"""TensorFlow's start-up lines (absl, oneDNN, CUDA probing) without the noise.

They are written by its C++ libraries straight to file descriptor 2 while `import keras`
loads them, before Python logging exists, so only silencing the descriptor for that import
hides them. Errors raised by the import still surface as Python exceptions.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager


def verbose() -> bool:
    """`classmood -v` was given (it sets TF_CPP_MIN_LOG_LEVEL=0): native libraries may speak."""
    return os.environ.get("TF_CPP_MIN_LOG_LEVEL") == "0"


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Send what native code writes to stderr to /dev/null inside the block."""
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def import_keras_quietly() -> None:
    """Load Keras (and TensorFlow under it) now, with its start-up chatter hidden; later
    `import keras` statements find it loaded."""
    with native_stderr_silenced():
        import keras  # noqa: F401
