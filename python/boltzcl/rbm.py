"""Restricted Boltzmann machines as scikit-learn transformers."""
import ctypes as C

import numpy as np
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state

from . import _lib
from ._base import BoltzEstimator, Progress, as_rows, float32_tags, seed_of

L = _lib.lib


class _RBMBase(TransformerMixin, BoltzEstimator):
    _kind = "rbm"
    _unit = 0  # bz_unit_type
    _unit_range = True

    def __sklearn_tags__(self):
        return float32_tags(super().__sklearn_tags__())

    # ---- fitting ----
    def _options(self, seed):
        o = _lib.RBMTrainOptions()
        L.bz_rbm_train_options_init(C.byref(o))
        o.batch_size = int(self.batch_size)
        o.k = int(self.k)
        o.pcd = 1 if self.persistent else 0
        o.learning_rate = float(self.learning_rate)
        o.momentum_initial = o.momentum_final = float(self.momentum)
        o.weight_decay = float(self.weight_decay)
        o.sparsity_target = float(self.sparsity_target)
        if not self.sparsity_target:
            o.sparsity_cost = 0.0
        o.stochastic_binarize = 0  # the data as given, as scikit-learn does
        o.seed = seed
        return o

    def _check_params(self):
        for name in ("n_components", "batch_size", "n_iter", "k"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < (0 if name == "n_iter" else 1):
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not (float(self.learning_rate) > 0):
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if not 0 <= float(self.sparsity_target) < 1:
            raise ValueError(f"sparsity_target must be in [0, 1), got {self.sparsity_target!r}")

    def _prepare(self, X):
        return X

    def _new_model(self, n_features, seed):
        ctx = self._ctx()
        r = C.c_void_p()
        _lib.raise_for(L.bz_rbm_create(ctx.handle, n_features, int(self.n_components),
                                       self._unit, seed, C.byref(r)), ctx.handle,
                       "creating the RBM")
        self._handle = _lib.wrap(ctx, r.value, "rbm")
        self._epoch = 0
        self._seed = seed
        self.train_seconds_ = 0.0  # the library's own epoch times, summed

    def _train(self, X, epochs):
        """Trains `epochs` epochs over X (float32 rows, prepared), resuming
        the epoch count; Ctrl-C ends after the current batch."""
        h = self._handle
        rbm = L.bz_model_rbm(h.handle)
        o = self._options(self._seed)
        stop = C.c_int(0)
        o.stop = C.pointer(stop)
        data = C.c_void_p()
        h.check(L.bz_data_create(h.ctx.handle, _lib.ptr(X), X.shape[0], X.shape[1],
                                 C.byref(data)), "uploading the data")
        progress = Progress(self.verbose, epochs, type(self).__name__)

        def body():
            st = _lib.RBMEpochStats()
            for _ in range(epochs):
                h.check(L.bz_rbm_train_epoch(rbm, data, C.byref(o), self._epoch, C.byref(st)),
                        f"epoch {self._epoch + 1}")
                self._epoch += 1
                self.train_seconds_ = getattr(self, "train_seconds_", 0.0) + st.seconds
                progress.epoch(f"[{type(self).__name__}] Iteration {self._epoch}, "
                               f"reconstruction error = {st.recon_mse:.5f}, "
                               f"time = {st.seconds:.2f}s")
        try:
            _lib.run_interruptible(body, stop)
        finally:
            progress.close()
            L.bz_data_free(data)  # X stays referenced until here
            self._read_params()

    def fit(self, X, y=None):
        """Trains n_iter epochs from a fresh model. Returns self."""
        self._check_params()
        X = self._prepare_fit(as_rows(self, X, reset=True, unit_range=self._unit_range))
        self._new_model(X.shape[1], seed_of(self.random_state))
        self._train(X, int(self.n_iter))
        return self

    def partial_fit(self, X, y=None):
        """One epoch over X (in batches of batch_size), continuing the
        model, its momentum and its persistent chains."""
        fitted = hasattr(self, "_handle")
        self._check_params()
        X = as_rows(self, X, reset=not fitted, unit_range=self._unit_range)
        X = self._prepare(X) if fitted else self._prepare_fit(X)
        if not fitted:
            self._new_model(X.shape[1], seed_of(self.random_state))
        self._train(X, 1)
        return self

    def _prepare_fit(self, X):
        return X

    def _read_params(self):
        rbm = L.bz_model_rbm(self._handle.handle)
        nv, nh = L.bz_rbm_n_visible(rbm), L.bz_rbm_n_hidden(rbm)
        w = np.empty((nv, nh), np.float32)
        vb = np.empty(nv, np.float32)
        hb = np.empty(nh, np.float32)
        self._handle.check(L.bz_rbm_get_params(rbm, _lib.ptr(w), _lib.ptr(vb), _lib.ptr(hb)),
                           "reading the parameters")
        self.components_ = np.ascontiguousarray(w.T)
        self.intercept_hidden_ = hb
        self.intercept_visible_ = vb
        self.n_features_in_ = nv

    def _from_handle(self, h):
        if h.kind != "rbm":
            raise _lib.FormatError(f"the file holds a {h.kind}, not an RBM")
        self._epoch = int(h.meta("sklearn_epochs") or 0)
        self._seed = int(h.meta("sklearn_seed") or 1)
        self._restore_params(h)
        self._read_params()
        self.n_components = int(self.components_.shape[0])

    def _store_meta(self):
        h = self._handle
        self._store_params()
        h.set_meta("sklearn_epochs", self._epoch)
        h.set_meta("sklearn_seed", self._seed)

    # ---- using ----
    def _rows(self, X):
        self._check_fitted()
        return self._prepare(as_rows(self, X, reset=False, unit_range=self._unit_range))

    def transform(self, X):
        """Hidden probabilities P(h=1|v), shape (n_samples, n_components)."""
        X = self._rows(X)
        out = np.empty((X.shape[0], self.components_.shape[0]), np.float32)
        rbm = L.bz_model_rbm(self._handle.handle)
        self._handle.check(L.bz_rbm_transform(rbm, _lib.ptr(X), X.shape[0], _lib.ptr(out)),
                           "transform")
        return out

    def reconstruct(self, X):
        """Mean-field reconstruction E[v | P(h|v)]."""
        X = self._rows(X)
        out = np.empty_like(X)
        rbm = L.bz_model_rbm(self._handle.handle)
        self._handle.check(L.bz_rbm_reconstruct(rbm, _lib.ptr(X), X.shape[0], _lib.ptr(out)),
                           "reconstruct")
        return out

    def free_energy(self, X):
        X = self._rows(X)
        return self._free_energy_rows(X)

    def _free_energy_rows(self, X):
        out = np.empty(X.shape[0], np.float32)
        rbm = L.bz_model_rbm(self._handle.handle)
        self._handle.check(L.bz_rbm_free_energy(rbm, _lib.ptr(X), X.shape[0], _lib.ptr(out)),
                           "free energy")
        return out.astype(np.float64)

    def _means_after(self, v, steps, seed):
        rbm = L.bz_model_rbm(self._handle.handle)
        n = v.shape[0] if v is not None else self._n
        out = np.empty((n, self.n_features_in_), np.float32)
        self._handle.check(L.bz_rbm_sample(rbm, _lib.ptr(v), n, steps, seed, _lib.ptr(out)),
                           "sampling")
        return out

    def sample(self, n_samples=1, n_steps=1000, random_state=None):
        """n_samples visible means after n_steps Gibbs steps from noise."""
        self._check_fitted()
        self._n = int(n_samples)
        return self._means_after(None, int(n_steps), seed_of(random_state))


class BernoulliRBM(_RBMBase):
    """Bernoulli RBM, a drop-in for sklearn.neural_network.BernoulliRBM.

    The same parameters and defaults, and by default the same algorithm:
    persistent contrastive divergence with one Gibbs step (PCD-1), plain
    gradient steps (no momentum, no weight decay), data used as given.
    Beyond scikit-learn's: k (Gibbs steps), persistent (False: CD-k),
    momentum, weight_decay, sparsity_target, device ("gpu", "cpu", "P:D"
    or part of a device name; None: $BOLTZCL_DEVICE or automatic).
    Inputs must lie in [0, 1].
    """

    def __init__(self, n_components=256, *, learning_rate=0.1, batch_size=10, n_iter=10,
                 verbose=0, random_state=None, k=1, persistent=True, momentum=0.0,
                 weight_decay=0.0, sparsity_target=0.0, device=None):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.device = device

    def gibbs(self, v):
        """One Gibbs step from v; returns a binary visible sample, as
        scikit-learn's gibbs does."""
        v = self._rows(v)
        rng = check_random_state(self.random_state)
        means = self._means_after(v, 1, seed_of(rng))
        return rng.uniform(size=means.shape) < means

    def score_samples(self, X):
        """Pseudo-log-likelihood of each row, as scikit-learn computes it:
        one random entry per row flipped, n_features * log sigmoid(F(v') -
        F(v))."""
        v = self._rows(X)
        rng = check_random_state(self.random_state)
        ind = (np.arange(v.shape[0]), rng.randint(0, v.shape[1], v.shape[0]))
        v_ = v.copy()
        v_[ind] = 1 - v_[ind]
        fe = self._free_energy_rows(v)
        fe_ = self._free_energy_rows(v_)
        return -v.shape[1] * np.logaddexp(0, -(fe_ - fe))


class GaussianRBM(_RBMBase):
    """RBM with Gaussian visible units (unit variance) for real-valued
    data. With standardize=True the features are standardised with the
    training data's mean and standard deviation (stored with the model, as
    the boltzcl command stores them) before the model sees them."""

    _unit = 1
    _unit_range = False

    def __init__(self, n_components=256, *, learning_rate=0.001, batch_size=100, n_iter=10,
                 verbose=0, random_state=None, k=1, persistent=False, momentum=0.9,
                 weight_decay=0.0002, sparsity_target=0.0, standardize=True, device=None):
        self.n_components = n_components
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.verbose = verbose
        self.random_state = random_state
        self.k = k
        self.persistent = persistent
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.sparsity_target = sparsity_target
        self.standardize = standardize
        self.device = device

    def _prepare_fit(self, X):
        if self.standardize:
            self.mean_ = X.mean(axis=0, dtype=np.float64).astype(np.float32)
            sd = X.std(axis=0, dtype=np.float64)
            sd[sd < 1e-6] = 1.0
            self.scale_ = sd.astype(np.float32)
        else:
            self.mean_ = np.zeros(X.shape[1], np.float32)
            self.scale_ = np.ones(X.shape[1], np.float32)
        return self._prepare(X)

    def _prepare(self, X):
        if not self.standardize:
            return X
        return np.ascontiguousarray((X - self.mean_) / self.scale_, dtype=np.float32)

    def _new_model(self, n_features, seed):
        super()._new_model(n_features, seed)
        rbm = L.bz_model_rbm(self._handle.handle)
        self._handle.check(L.bz_rbm_set_standardization(rbm, _lib.ptr(self.mean_),
                                                        _lib.ptr(self.scale_)),
                           "standardisation")

    def _from_handle(self, h):
        super()._from_handle(h)
        rbm = L.bz_model_rbm(h.handle)
        m = np.zeros(self.n_features_in_, np.float32)
        s = np.ones(self.n_features_in_, np.float32)
        has = L.bz_rbm_get_standardization(rbm, _lib.ptr(m), _lib.ptr(s))
        self.mean_, self.scale_ = m, s
        self.standardize = bool(has)

    def score_samples(self, X):
        """Minus the free energy of each row (an unnormalised log density)."""
        return -self._free_energy_rows(self._rows(X))

    def sample(self, n_samples=1, n_steps=1000, random_state=None):
        out = super().sample(n_samples, n_steps, random_state)
        return out * self.scale_ + self.mean_ if self.standardize else out
