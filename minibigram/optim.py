"""Optimizers: they move W downhill on a ``loss_fn(W) -> (loss, dW)``."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from .errors import TrainingError

LossFn = Callable[[np.ndarray], "tuple[float, np.ndarray]"]
Callback = Callable[[int, float], None]


def gradient_descent(loss_fn: LossFn, W: np.ndarray, steps: int, lr: float,
                     callback: Callback | None = None) -> tuple[np.ndarray, list[float]]:
    """Full-batch gradient descent, ``W <- W - lr * dW``, as in the notebook.

    Parameters
    ----------
    loss_fn : callable
        ``loss_fn(W) -> (loss, dW)``.
    W : ndarray
        Starting point; not modified.
    steps : int
        Number of updates.
    lr : float
        Learning rate.
    callback : callable, optional
        Called as ``callback(step, loss)`` after each step's loss is computed
        (``step`` counts from 1).

    Returns
    -------
    W : ndarray
        The weights after ``steps`` updates.
    history : list of float
        The loss of every step, computed before that step's update (what the
        notebook prints).

    Raises
    ------
    TrainingError
        If the loss becomes NaN or infinite: the steps are too large.
    """
    W = W.copy()
    history: list[float] = []
    for step in range(1, steps + 1):
        loss, dW = loss_fn(W)
        if not math.isfinite(loss):
            raise TrainingError(f"training diverged: the loss became {loss} at step {step}; "
                                f"try a smaller learning rate than {lr:g}.")
        history.append(loss)
        if callback is not None:
            callback(step, loss)
        W -= lr * dW
    return W, history
