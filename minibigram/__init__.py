"""minibigram: the makemore part-1 character bigram network in NumPy, gradients by hand.

The pipeline, one module per stage::

    words -> vocab -> examples -> stream -> engines -> optim -> models -> sampling -> io, cli
    (words)  (ids)    (pairs,     (counts   (loss and  (descent,  (count model,  (names)  (files)
                       counts)     of big    gradient)  Newton)    network)
                                   files)

``functional.py`` holds each math step of the notebook with its backward beside
it; the ``onehot`` engine is their chain.
"""

import importlib
from typing import TYPE_CHECKING, Any

from .arpa import read_arpa as load_arpa
from .backoff import BackoffModel
from .cluster import count_files
from .engines import (
    ENGINES,
    concat_hvp,
    concat_loss_and_grad,
    counts_hvp,
    counts_loss_and_grad,
    loss_and_grad,
    objective,
)
from .errors import (
    DataError,
    DependencyError,
    FileAccessError,
    MinibigramError,
    ModelFileError,
    SettingsError,
    TrainingError,
)
from .evaluate import eval_model, eval_records, sweep
from .examples import (
    BigramCounts,
    ContextCounts,
    bigram_counts,
    bigrams,
    context_codes,
    context_counts,
    count_text,
    ngrams,
)
from .export import to_json, write_arpa, write_json
from .functional import cross_entropy
from .modelfiles import load_model
from .models import BigramModel, ConcatModel, CountModel, LanguageModel, NGramModel
from .optim import closed_form, concat_newton, gradient_descent, newton
from .perplexity import Perplexity
from .sampling import SAMPLERS
from .smoothing import METHODS as SMOOTHING_METHODS
from .stream import count_bigrams, count_contexts
from .torchrng import TorchGenerator
from .training import (
    DEFAULTS,
    FAMILIES,
    TrainResult,
    TrainSettings,
    data_provenance,
    model_info,
    train,
    train_settings,
)
from .version import __version__ as __version__
from .vocab import BOUNDARY, Vocabulary
from .words import (
    WordList,
    WordText,
    escape_bytes,
    escape_tsv,
    load_text,
    load_words,
    split_words,
    unescape_tsv,
)

# The gradient checker and its problems load on first use: only the gradcheck command and
# test authors need them, and their dataclasses cost every other command's start-up.
_LAZY = {
    **dict.fromkeys(("PASS_RULE", "GradcheckError", "GradcheckResult", "assert_gradcheck",
                     "gradcheck", "hvpcheck"), "checks"),
    **dict.fromkeys(("REFERENCE_PROBLEMS", "ReferenceProblem", "reference_problem"),
                    "problems"),
}
if TYPE_CHECKING:
    from .checks import (
        PASS_RULE,
        GradcheckError,
        GradcheckResult,
        assert_gradcheck,
        gradcheck,
        hvpcheck,
    )
    from .problems import REFERENCE_PROBLEMS, ReferenceProblem, reference_problem


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'minibigram' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazily loaded names too, so tab completion offers them before their first use
    return sorted({*globals(), *_LAZY})


__all__ = [
    "BOUNDARY",
    "ENGINES",
    "SAMPLERS",
    "SMOOTHING_METHODS",
    "BackoffModel",
    "BigramCounts",
    "BigramModel",
    "ConcatModel",
    "DEFAULTS",
    "FAMILIES",
    "ContextCounts",
    "CountModel",
    "DataError",
    "DependencyError",
    "FileAccessError",
    "GradcheckError",
    "GradcheckResult",
    "LanguageModel",
    "MinibigramError",
    "ModelFileError",
    "NGramModel",
    "PASS_RULE",
    "Perplexity",
    "REFERENCE_PROBLEMS",
    "ReferenceProblem",
    "SettingsError",
    "TorchGenerator",
    "TrainResult",
    "TrainSettings",
    "TrainingError",
    "Vocabulary",
    "WordList",
    "WordText",
    "assert_gradcheck",
    "bigram_counts",
    "bigrams",
    "closed_form",
    "concat_hvp",
    "concat_newton",
    "context_codes",
    "concat_loss_and_grad",
    "context_counts",
    "count_bigrams",
    "count_contexts",
    "count_files",
    "count_text",
    "counts_hvp",
    "counts_loss_and_grad",
    "cross_entropy",
    "escape_bytes",
    "escape_tsv",
    "data_provenance",
    "eval_model",
    "eval_records",
    "gradcheck",
    "gradient_descent",
    "hvpcheck",
    "load_arpa",
    "load_model",
    "load_text",
    "load_words",
    "loss_and_grad",
    "model_info",
    "newton",
    "ngrams",
    "objective",
    "reference_problem",
    "split_words",
    "sweep",
    "to_json",
    "unescape_tsv",
    "train",
    "train_settings",
    "write_arpa",
    "write_json",
]
