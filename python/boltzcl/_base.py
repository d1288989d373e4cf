"""What every boltzcl estimator shares: input checks, the device handle,
pickling through the model file's bytes, save, and progress output."""
import json
import os
import tempfile

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from . import _lib

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # older: the estimator's own method
    def _validate_data(est, X="no_validation", y="no_validation", reset=True, **kw):
        return est._validate_data(X, y, reset=reset, **kw)

try:
    from tqdm.auto import tqdm as _tqdm
except ImportError:  # optional
    _tqdm = None


def as_rows(est, X, reset, unit_range=False, what="X"):
    """X as float32 C-contiguous rows: the caller's array itself when it
    already is one (no copy), else one converted copy. Refuses NaN/Inf, an
    empty array, a wrong number of features, and with unit_range values
    outside [0, 1] (Bernoulli units take probabilities)."""
    X = _validate_data(est, X, reset=reset, dtype=np.float32, order="C",
                       accept_sparse=False, ensure_min_samples=1)
    if not np.all(np.isfinite(X)):
        # float64 values beyond float32's range become Inf: say so.
        raise ValueError(f"{what} holds values too large for float32 (boltzcl computes "
                         f"in float32)")
    if unit_range and X.size:
        lo, hi = float(X.min()), float(X.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"{what} has values in [{lo:g}, {hi:g}]; Bernoulli visible units "
                             f"take values in [0, 1] (scale the data, e.g. with MinMaxScaler)")
    return X


def plain_rows(X, n_features, unit_range=False, what="X"):
    """As as_rows, for arrays that are not the estimator's X (sample
    starting points): no n_features_in_ bookkeeping."""
    X = check_array(X, dtype=np.float32, order="C")
    if X.shape[1] != n_features:
        raise ValueError(f"{what} has {X.shape[1]} features, the model takes {n_features}")
    if unit_range and X.size and (X.min() < 0 or X.max() > 1):
        raise ValueError(f"{what} must lie in [0, 1] for Bernoulli units")
    return X


def seed_of(random_state):
    """A 64-bit seed for the library from scikit-learn's random_state."""
    return int(check_random_state(random_state).randint(1, 2**31 - 1))


def float32_tags(tags):
    """scikit-learn >= 1.6 tags: transforms give float32 (set after
    TransformerMixin has set its own)."""
    if getattr(tags, "transformer_tags", None) is not None:
        tags.transformer_tags.preserves_dtype = ["float32"]
    return tags


class Progress:
    """Per-epoch lines when verbose, with a tqdm bar when tqdm is
    installed."""

    def __init__(self, verbose, total, desc):
        self.verbose = verbose
        self.bar = None
        if verbose and _tqdm is not None:
            self.bar = _tqdm(total=total, desc=desc, leave=True)

    def epoch(self, text):
        if not self.verbose:
            return
        if self.bar is not None:
            self.bar.set_postfix_str(text, refresh=False)
            self.bar.update(1)
        else:
            print(text, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()


class BoltzEstimator(BaseEstimator):
    """Base: a fitted estimator holds `_handle` (a bz_model on a device).
    Subclasses set _kind ("rbm", "dbn", "dbm") and implement _from_handle
    (read fitted attributes back from a loaded model)."""

    _kind = None

    def _ctx(self):
        return _lib.context(getattr(self, "device", None))

    def _check_fitted(self):
        check_is_fitted(self, "_handle")
        return self._handle

    # Outputs are float32, whatever the input's dtype: the library computes
    # in single precision.
    def _more_tags(self):  # scikit-learn < 1.6
        return {"preserves_dtype": [np.float32]}

    def __sklearn_tags__(self):  # scikit-learn >= 1.6
        return float32_tags(super().__sklearn_tags__())



    # ---- files ----
    def save(self, path):
        """Writes the model in the same safetensors format as the boltzcl
        command (atomically)."""
        self._check_fitted()
        self._store_meta()
        self._handle.save(os.fspath(path))

    def _store_meta(self):
        """Subclasses add the metadata their fitted attributes need."""

    def _store_params(self):
        """The plain parameters (numbers, strings, None; numpy scalars as
        Python ones; not random_state) into the file's sklearn_params."""
        p = {}
        for k, v in self.get_params().items():
            if isinstance(v, np.generic):
                v = v.item()
            if k != "random_state" and isinstance(v, (int, float, str, bool, type(None))):
                p[k] = v
        self._handle.set_meta("sklearn_params", json.dumps(p, sort_keys=True))

    def _restore_params(self, h, *skip):
        """The parameters a file stored, but for the device and `skip`."""
        params = h.meta("sklearn_params")
        if params:
            p = json.loads(params)
            for k in ("device",) + skip:
                p.pop(k, None)
            self.set_params(**{k: v for k, v in p.items() if k in self.get_params()})

    def _bytes(self):
        fd, path = tempfile.mkstemp(suffix=".safetensors")
        os.close(fd)
        try:
            self.save(path)
            with open(path, "rb") as f:
                return f.read()
        finally:
            os.unlink(path)

    @classmethod
    def _load_bytes(cls, data, device):
        fd, path = tempfile.mkstemp(suffix=".safetensors")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            return _lib.load_handle(path, device)
        finally:
            os.unlink(path)

    # ---- pickling: parameters plus the model file's bytes ----
    def __getstate__(self):
        state = dict(self.__dict__)
        handle = state.pop("_handle", None)
        if handle is not None:
            state["_model_bytes"] = self._bytes()
        return state

    def __setstate__(self, state):
        data = state.pop("_model_bytes", None)
        self.__dict__.update(state)
        if data is not None:
            self._handle = self._load_bytes(data, getattr(self, "device", None))
            self._from_handle(self._handle)

    def __sklearn_clone__(self):  # clone() keeps parameters only
        return type(self)(**self.get_params(deep=False))


def load(path, device=None):
    """Reads a model file written by save() or by the boltzcl command and
    returns the fitted estimator of its kind."""
    from .dbm import DBM
    from .dbn import DBNClassifier, DBNTransformer
    from .rbm import BernoulliRBM, GaussianRBM
    from .ratings import RatingsRBM
    kind = _lib.file_kind(path)
    if kind is None:
        # The loader's own message says why (missing, damaged, foreign).
        return _lib.load_handle(path, device)
    h = _lib.load_handle(path, device)
    if kind == "rbm":
        cls = GaussianRBM if h.meta("visible") == "gaussian" or \
            _lib.lib.bz_rbm_visible_type(_lib.lib.bz_model_rbm(h.handle)) == 1 else BernoulliRBM
    elif kind == "dbn":
        cls = DBNTransformer if h.meta("sklearn_estimator") == "DBNTransformer" \
            else DBNClassifier
    elif kind == "dbm":
        cls = DBM
    elif kind == "cf":
        cls = RatingsRBM
    else:
        raise _lib.UnsupportedError(f"{path}: model kind {kind!r} has no Python estimator")
    est = cls(device=device)
    est._handle = h
    est._from_handle(h)
    return est
