"""minibigram: the makemore part-1 character bigram network in NumPy, gradients by hand."""

__version__ = "0.1.0"
