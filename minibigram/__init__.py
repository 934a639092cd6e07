"""minibigram: the makemore part-1 character bigram network in NumPy, gradients by hand.

The pipeline, one module per stage::

    words -> Vocabulary -> pairs -> counts -> engine -> optimizer -> model -> sampler
    |--------------- data.py ---------------|  engines.py optim.py  model.py sampling.py

``functional.py`` holds each math step with its backward beside it.
"""

from .checks import (
    PASS_RULE,
    REFERENCE_PROBLEMS,
    GradcheckError,
    GradcheckResult,
    ReferenceProblem,
    assert_gradcheck,
    gradcheck,
    hvpcheck,
    reference_problem,
)
from .data import (
    BOUNDARY,
    BigramCounts,
    Vocabulary,
    bigram_counts,
    bigrams,
    context_counts,
    count_bigrams,
    load_words,
    ngrams,
    split_words,
)
from .engines import ENGINES, concat_loss_and_grad, counts_loss_and_grad, loss_and_grad
from .errors import (
    DataError,
    DependencyError,
    FileAccessError,
    MinibigramError,
    ModelFileError,
    SettingsError,
    TrainingError,
)
from .evaluate import sweep
from .functional import cross_entropy
from .model import BigramModel
from .ngram import CountModel, NGramModel, load_model
from .optim import closed_form, gradient_descent, newton
from .sampling import SAMPLERS
from .torchrng import TorchGenerator

__version__ = "0.1.0"

__all__ = [
    "BOUNDARY",
    "ENGINES",
    "SAMPLERS",
    "BigramCounts",
    "BigramModel",
    "CountModel",
    "DataError",
    "DependencyError",
    "FileAccessError",
    "GradcheckError",
    "GradcheckResult",
    "MinibigramError",
    "ModelFileError",
    "NGramModel",
    "PASS_RULE",
    "REFERENCE_PROBLEMS",
    "ReferenceProblem",
    "SettingsError",
    "TorchGenerator",
    "TrainingError",
    "Vocabulary",
    "assert_gradcheck",
    "bigram_counts",
    "bigrams",
    "closed_form",
    "concat_loss_and_grad",
    "context_counts",
    "count_bigrams",
    "counts_loss_and_grad",
    "cross_entropy",
    "gradcheck",
    "gradient_descent",
    "hvpcheck",
    "load_model",
    "load_words",
    "loss_and_grad",
    "newton",
    "ngrams",
    "reference_problem",
    "split_words",
    "sweep",
]
