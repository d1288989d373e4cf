"""Deep Boltzmann machines (Salakhutdinov & Hinton 2009): greedy
pretraining, then joint training with mean-field and persistent chains."""
import ctypes as C

import numpy as np
from sklearn.base import TransformerMixin

from . import _lib
from ._base import BoltzEstimator, Progress, as_rows, float32_tags, seed_of

L = _lib.lib


class DBM(TransformerMixin, BoltzEstimator):
    """A DBM with binary units in layers v, h1 .. hL (L = 2 or 3). X in
    [0, 1]. transform gives the mean-field posteriors of all hidden layers
    side by side; sample draws visible samples; score is the mean
    variational lower bound on log p(v) with log Z estimated by annealed
    importance sampling (ais_runs, ais_betas)."""

    _kind = "dbm"

    def __sklearn_tags__(self):
        return float32_tags(super().__sklearn_tags__())

    def __init__(self, hidden_layer_sizes=(500, 1000), *, pretrain_epochs=10,
                 pretrain_learning_rate=0.05, n_iter=10, learning_rate=0.001, batch_size=100,
                 chains=100, mf_iters=10, gibbs_steps=5, weight_decay=0.0002, ais_runs=100,
                 ais_betas=10000, verbose=0, random_state=None, device=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_learning_rate = pretrain_learning_rate
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.chains = chains
        self.mf_iters = mf_iters
        self.gibbs_steps = gibbs_steps
        self.weight_decay = weight_decay
        self.ais_runs = ais_runs
        self.ais_betas = ais_betas
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    def fit(self, X, y=None):
        hs = list(self.hidden_layer_sizes)
        if len(hs) not in (2, 3) or not all(isinstance(h, (int, np.integer)) and h > 0
                                            for h in hs):
            raise ValueError(f"hidden_layer_sizes must be 2 or 3 positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        X = as_rows(self, X, reset=True, unit_range=True)
        seed = seed_of(self.random_state)
        ctx = self._ctx()
        sizes = (C.c_size_t * (len(hs) + 1))(X.shape[1], *[int(h) for h in hs])
        d = C.c_void_p()
        _lib.raise_for(L.bz_dbm_create(ctx.handle, sizes, len(hs), seed, C.byref(d)),
                       ctx.handle, "creating the DBM")
        self._handle = h = _lib.wrap(ctx, d.value, "dbm")
        dbm = L.bz_model_dbm(h.handle)
        stop = C.c_int(0)
        name = type(self).__name__
        if self.pretrain_epochs > 0:
            o = _lib.RBMTrainOptions()
            L.bz_rbm_train_options_init(C.byref(o))
            o.learning_rate = float(self.pretrain_learning_rate)
            o.batch_size = int(self.batch_size)
            o.seed = seed
            o.stop = C.pointer(stop)
            pbar = Progress(self.verbose, len(hs) * int(self.pretrain_epochs),
                            f"{name} pretraining")

            def on_epoch(user, layer, epoch, st):
                pbar.epoch(f"[{name}] layer {layer + 1} epoch {epoch + 1}, reconstruction "
                           f"error = {st.contents.recon_mse:.5f}")
            cb = _lib.PRETRAIN_CB(on_epoch)
            try:
                _lib.run_interruptible(lambda: h.check(L.bz_dbm_pretrain(
                    dbm, _lib.ptr(X), X.shape[0], C.byref(o), int(self.pretrain_epochs), cb,
                    None), "pretraining"), stop)
            finally:
                pbar.close()
        if self.n_iter > 0:
            t = _lib.DBMTrainOptions()
            L.bz_dbm_train_options_init(C.byref(t))
            t.batch_size = int(self.batch_size)
            t.chains = int(self.chains)
            t.mf_iters = int(self.mf_iters)
            t.gibbs_steps = int(self.gibbs_steps)
            t.learning_rate = float(self.learning_rate)
            t.weight_decay = float(self.weight_decay)
            t.seed = seed
            t.stop = C.pointer(stop)
            data = C.c_void_p()
            h.check(L.bz_data_create(ctx.handle, _lib.ptr(X), X.shape[0], X.shape[1],
                                     C.byref(data)), "uploading the data")
            bar = Progress(self.verbose, int(self.n_iter), f"{name} training")

            def body():
                st = _lib.DBMEpochStats()
                for e in range(int(self.n_iter)):
                    # Ctrl-C sets the stop flag: the epoch ends after the
                    # current batch (BZ_E_INTERRUPTED), and no further epoch
                    # starts.
                    if stop.value:
                        raise KeyboardInterrupt
                    h.check(L.bz_dbm_train_epoch(dbm, data, C.byref(t), e, C.byref(st)),
                            f"epoch {e + 1}")
                    bar.epoch(f"[{name}] epoch {e + 1}, {st.mean_sweeps:.1f} mean-field "
                              f"sweeps per batch, {st.seconds:.2f}s")
            try:
                _lib.run_interruptible(body, stop)
            finally:
                bar.close()
                L.bz_data_free(data)
        self._from_handle(h)
        return self

    def _from_handle(self, h):
        if h.kind != "dbm":
            raise _lib.FormatError(f"the file holds a {h.kind}, not a DBM")
        n = L.bz_model_n_layers(h.handle)
        sizes = [L.bz_model_layer_size(h.handle, i) for i in range(n)]
        self._restore_params(h)
        self.hidden_layer_sizes = tuple(sizes[1:])
        self.n_features_in_ = sizes[0]

    def _store_meta(self):
        self._store_params()

    def _rows(self, X):
        self._check_fitted()
        return as_rows(self, X, reset=False, unit_range=True)

    def transform(self, X):
        X = self._rows(X)
        out = np.empty((X.shape[0], sum(self.hidden_layer_sizes)), np.float32)
        self._handle.check(L.bz_dbm_transform(L.bz_model_dbm(self._handle.handle),
                                              _lib.ptr(X), X.shape[0], int(self.mf_iters),
                                              1e-4, _lib.ptr(out)), "transform")
        return out

    def sample(self, n_samples=1, n_steps=1000, random_state=None):
        self._check_fitted()
        out = np.empty((int(n_samples), self.n_features_in_), np.float32)
        self._handle.check(L.bz_dbm_sample(L.bz_model_dbm(self._handle.handle),
                                           int(n_samples), int(n_steps),
                                           seed_of(random_state), _lib.ptr(out)), "sampling")
        return out

    def log_partition(self, X_base=None):
        """log Z by AIS from the base-rate model of X_base (None: uniform);
        returns (log_z, standard deviation)."""
        self._check_fitted()
        base = None if X_base is None else self._rows(X_base)
        o = _lib.AISOptions()
        L.bz_ais_options_init(C.byref(o))
        o.runs, o.betas = int(self.ais_runs), int(self.ais_betas)
        o.seed = seed_of(self.random_state)
        r = _lib.AISResult()
        self._handle.check(L.bz_dbm_ais(L.bz_model_dbm(self._handle.handle), _lib.ptr(base),
                                        0 if base is None else base.shape[0], C.byref(o),
                                        C.byref(r)), "AIS")
        return r.log_z, r.log_z_sd

    def score(self, X, y=None):
        """Mean estimated log-likelihood of the rows: the variational bound
        minus log Z (AIS from the base rates of X)."""
        X = self._rows(X)
        bound = C.c_double()
        self._handle.check(L.bz_dbm_mean_bound(L.bz_model_dbm(self._handle.handle),
                                               _lib.ptr(X), X.shape[0], int(self.mf_iters),
                                               1e-4, C.byref(bound)), "bound")
        log_z, _ = self.log_partition(X)
        return float(bound.value - log_z)
