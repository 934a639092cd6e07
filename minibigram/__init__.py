"""minibigram: the makemore part-1 character bigram network in NumPy, gradients by hand.

The pipeline, one module per stage::

    words -> vocab -> examples -> stream -> engines -> optim -> models -> sampling -> io, cli
    (words)  (ids)    (pairs,     (counts   (loss and  (descent,  (count model,  (names)  (files)
                       counts)     of big    gradient)  Newton)    network)
                                   files)

``functional.py`` holds each math step of the notebook with its backward beside
it; the ``onehot`` engine is their chain.
"""

from typing import TYPE_CHECKING, Any

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
from .evaluate import sweep
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
from .functional import cross_entropy
from .models import BigramModel, CountModel, LanguageModel, NGramModel
from .optim import closed_form, concat_newton, gradient_descent, newton
from .sampling import SAMPLERS
from .torchrng import TorchGenerator
from .vocab import BOUNDARY, Vocabulary
from .words import WordList, WordText, load_text, load_words, split_words

__version__ = "0.1.0"

# The stages a command needs only now and then load on first use: the gradient checker
# and its problems (their dataclasses and their inspect cost about 15 ms), streaming and
# Dask counting, the exports (json), and model files (io: training needs none).
_LAZY = {
    **dict.fromkeys(("PASS_RULE", "GradcheckError", "GradcheckResult", "assert_gradcheck",
                     "gradcheck", "hvpcheck"), "checks"),
    **dict.fromkeys(("REFERENCE_PROBLEMS", "ReferenceProblem", "reference_problem"),
                    "problems"),
    "count_files": "cluster",
    **dict.fromkeys(("count_bigrams", "count_contexts"), "stream"),
    **dict.fromkeys(("to_json", "write_arpa", "write_json"), "export"),
    "load_model": "io",
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
    from .cluster import count_files
    from .export import to_json, write_arpa, write_json
    from .io import load_model
    from .problems import REFERENCE_PROBLEMS, ReferenceProblem, reference_problem
    from .stream import count_bigrams, count_contexts


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'minibigram' has no attribute {name!r}")


def __dir__() -> list[str]:
    # the lazily loaded names too, so tab completion offers them before their first use
    return sorted({*globals(), *_LAZY})

__all__ = [
    "BOUNDARY",
    "ENGINES",
    "SAMPLERS",
    "BigramCounts",
    "BigramModel",
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
    "REFERENCE_PROBLEMS",
    "ReferenceProblem",
    "SettingsError",
    "TorchGenerator",
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
    "gradcheck",
    "gradient_descent",
    "hvpcheck",
    "load_model",
    "load_text",
    "load_words",
    "loss_and_grad",
    "newton",
    "ngrams",
    "objective",
    "reference_problem",
    "split_words",
    "sweep",
    "to_json",
    "write_arpa",
    "write_json",
]
