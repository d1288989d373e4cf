"""Collaborative filtering: the ratings RBM of `boltzcl train cf` as an
estimator over (user, item, rating) triples."""
import ctypes as C

import numpy as np

from . import _lib
from ._base import BoltzEstimator, Progress, seed_of

L = _lib.lib

_U32_MAX = 2**32 - 1


def _ids(col, what):
    """A column of ids as uint32, refusing what is not a whole number in
    0 .. 2**32 - 1."""
    if not np.all(np.isfinite(col)):
        raise ValueError(f"{what} ids must be finite whole numbers (0 to {_U32_MAX})")
    if col.size and (col.min() < 0 or col.max() > _U32_MAX or np.any(col != np.floor(col))):
        raise ValueError(f"{what} ids must be whole numbers from 0 to {_U32_MAX}")
    return np.ascontiguousarray(col, dtype=np.uint32)


def _table(X, cols, what):
    """X as a float64 (n, cols) array, refusing other shapes and an empty
    one (NaN is left for the caller's checks)."""
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{what} must be numeric: {e}") from None
    if X.ndim != 2 or X.shape[1] != cols:
        names = "user id, item id, rating" if cols == 3 else "user id, item id"
        raise ValueError(f"{what} must be an array of shape (n, {cols}) with columns "
                         f"{names}; got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError(f"{what} is empty")
    return X


def _u32p(a):
    return a.ctypes.data_as(_lib.u32p)


class _Stop:
    """What run_interruptible sets on Ctrl-C: a stop request to the
    trainer, which ends after its current batch."""

    @property
    def value(self):
        return L.bz_stop_requested()

    @value.setter
    def value(self, v):
        if v:
            L.bz_request_stop(2)


class RatingsRBM(BoltzEstimator):
    """Restricted Boltzmann machine for collaborative filtering
    (Salakhutdinov, Mnih and Hinton, 2007), trained on the device as
    `boltzcl train cf` trains it.

    fit(X) takes X of shape (n, 3): user id, item id, rating (ids are whole
    numbers from 0 to 2**32 - 1, as in a ratings file; a pair at most
    once). predict(X) takes (n, 2) user/item pairs and gives predicted
    ratings; a user or item the model has not seen gets the mean training
    rating. score(X) is minus the RMSE on (n, 3) ratings (greater is
    better). recommend(user, n) lists the items the user has not rated,
    best predicted first. Files are those of the command line.

    rating_scale: (lo, hi, step), at most 15 values; None takes it from the
    training ratings as the command does (half steps when any rating has a
    half, from one step up to the largest rating, at least 5).
    """

    _kind = "cf"

    def __init__(self, n_components=128, *, item_based=True, conditional=False, n_iter=20,
                 learning_rate=1.0, batch_size=64, momentum=0.5, weight_decay=0.001,
                 lr_decay=0.05, rating_scale=None, random_state=None, device=None, verbose=0):
        self.n_components = n_components
        self.item_based = item_based
        self.conditional = conditional
        self.n_iter = n_iter
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.lr_decay = lr_decay
        self.rating_scale = rating_scale
        self.random_state = random_state
        self.device = device
        self.verbose = verbose

    # ---- fitting ----
    def _check_params(self):
        for name in ("n_components", "n_iter", "batch_size"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if not float(self.learning_rate) > 0:
            raise ValueError(f"learning_rate must be > 0, got {self.learning_rate!r}")
        if not 0 <= float(self.momentum) < 1:
            raise ValueError(f"momentum must be in [0, 1), got {self.momentum!r}")
        if not float(self.weight_decay) >= 0 or not float(self.lr_decay) >= 0:
            raise ValueError("weight_decay and lr_decay must be >= 0")

    def _scale(self, r):
        if self.rating_scale is not None:
            try:
                lo, hi, step = (float(v) for v in self.rating_scale)
            except (TypeError, ValueError):
                raise ValueError(f"rating_scale must be (lo, hi, step), got "
                                 f"{self.rating_scale!r}") from None
            return lo, hi, step
        fin = r[np.isfinite(r)]
        step = 0.5 if np.any(fin != np.floor(fin)) else 1.0
        hi = max(5.0, float(fin.max()) if fin.size else 5.0)
        return step, np.floor(hi / step + 0.5) * step, step

    def _options(self, seed):
        o = _lib.CFTrainOptions()
        L.bz_cf_train_options_init(C.byref(o))
        o.hidden = int(self.n_components)
        o.item_based = 1 if self.item_based else 0
        o.conditional = 1 if self.conditional else 0
        o.epochs = int(self.n_iter)
        o.batch_size = int(self.batch_size)
        o.learning_rate = float(self.learning_rate)
        o.lr_decay = float(self.lr_decay)
        o.momentum_initial = o.momentum_final = float(self.momentum)
        o.weight_decay = float(self.weight_decay)
        o.seed = seed
        return o

    def fit(self, X, y=None):
        """Trains n_iter epochs on the ratings X (n, 3) from a fresh model.
        Ctrl-C ends training after the current batch (the model keeps what
        it learnt) and raises KeyboardInterrupt. Returns self."""
        self._check_params()
        X = _table(X, 3, "X")
        users, items = _ids(X[:, 0], "user"), _ids(X[:, 1], "item")
        r = np.ascontiguousarray(X[:, 2], dtype=np.float32)
        lo, hi, step = self._scale(X[:, 2])
        seed = seed_of(self.random_state)
        o = self._options(seed)
        ctx = self._ctx()
        cf = C.c_void_p()
        _lib.raise_for(L.bz_cf_create_from_ratings(ctx.handle, _u32p(users), _u32p(items),
                                                   _lib.ptr(r), X.shape[0], lo, hi, step,
                                                   C.byref(o), C.byref(cf)),
                       ctx.handle, "ratings")
        self._handle = h = _lib.wrap(ctx, cf.value, "cf")
        self._seed = seed
        self.n_features_in_ = 3
        t = C.c_void_p()
        h.check(L.bz_cf_trainer_create(L.bz_model_cf(h.handle), C.byref(o), C.byref(t)),
                "training options")
        name = type(self).__name__
        progress = Progress(self.verbose, int(self.n_iter), name)

        def on_progress(user, p):
            p = p.contents
            if p.epoch_done:
                progress.epoch(f"[{name}] {_lib._text(p.summary).strip()}")
        cb = _lib.TRAIN_PROGRESS_CB(on_progress)
        to = _lib.TrainOptions()
        L.bz_train_options_init(C.byref(to))
        to.progress = cb
        res = _lib.TrainResult()
        L.bz_clear_stop()
        try:
            _lib.run_interruptible(lambda: h.check(L.bz_trainer_run(t, C.byref(to),
                                                                    C.byref(res)), "training"),
                                   _Stop())
        finally:
            progress.close()
            L.bz_trainer_free(t)
            L.bz_clear_stop()
            self.train_seconds_ = res.seconds
            self._read_info()
        return self

    def _cf(self):
        return L.bz_model_cf(self._check_fitted().handle)

    def _read_info(self):
        cf = L.bz_model_cf(self._handle.handle)
        info = _lib.CFInfo()
        self._handle.check(L.bz_cf_get_info(cf, C.byref(info)), "reading the model")
        users = np.empty(info.n_users, np.uint32)
        items = np.empty(info.n_items, np.uint32)
        self._handle.check(L.bz_cf_get_ids(cf, _u32p(users), _u32p(items)), "reading the ids")
        self.user_ids_ = users.astype(np.int64)
        self.item_ids_ = items.astype(np.int64)
        self.rating_scale_ = (float(info.lo), float(info.hi), float(info.step))
        self.mean_rating_ = float(info.mean_rating)
        self.n_ratings_ = int(info.n_ratings)
        self.n_features_in_ = 3
        return info

    def _from_handle(self, h):
        if h.kind != "cf":
            raise _lib.FormatError(f"the file holds a {h.kind}, not a ratings RBM")
        self._seed = int(h.meta("sklearn_seed") or 1)
        self._restore_params(h)
        info = self._read_info()
        self.n_components = int(info.hidden)
        self.item_based = bool(info.item_based)
        self.conditional = bool(info.conditional)

    def _store_meta(self):
        h = self._handle
        self._store_params()
        h.set_meta("sklearn_seed", self._seed)

    # ---- using ----
    def predict(self, X):
        """Predicted ratings (float32) of the (n, 2) user/item pairs X."""
        cf = self._cf()
        X = _table(X, 2, "X")
        users, items = _ids(X[:, 0], "user"), _ids(X[:, 1], "item")
        out = np.empty(X.shape[0], np.float32)
        unknown = C.c_size_t(0)
        self._handle.check(L.bz_cf_predict_ratings(cf, _u32p(users), _u32p(items), X.shape[0],
                                                   _lib.ptr(out), C.byref(unknown)), "predict")
        return out

    def _errors(self, X):
        cf = self._cf()
        X = _table(X, 3, "X")
        users, items = _ids(X[:, 0], "user"), _ids(X[:, 1], "item")
        r = np.ascontiguousarray(X[:, 2], dtype=np.float32)
        rmse, mae = C.c_double(), C.c_double()
        self._handle.check(L.bz_cf_evaluate(cf, _u32p(users), _u32p(items), _lib.ptr(r),
                                            X.shape[0], C.byref(rmse), C.byref(mae)),
                           "ratings")
        return rmse.value, mae.value

    def score(self, X, y=None):
        """Minus the RMSE of the predictions of the (n, 3) ratings X
        (scikit-learn's convention: greater is better)."""
        return -self._errors(X)[0]

    def rmse(self, X):
        """Root mean squared error on the (n, 3) ratings X."""
        return self._errors(X)[0]

    def mae(self, X):
        """Mean absolute error on the (n, 3) ratings X."""
        return self._errors(X)[1]

    def recommend(self, user, n=10):
        """The n items the user has not rated, best predicted first: (item
        ids, predicted ratings). ValueError for a user the model has not
        seen."""
        cf = self._cf()
        if isinstance(user, bool) or not isinstance(user, (int, np.integer)) or \
                not 0 <= int(user) <= _U32_MAX:
            raise ValueError(f"user must be a user id (a whole number from 0 to {_U32_MAX}), "
                             f"got {user!r}")
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        n = int(min(int(n), len(self.item_ids_)))
        items = np.empty(n, np.uint32)
        ratings = np.empty(n, np.float32)
        got = C.c_size_t(0)
        st = L.bz_cf_recommend(cf, int(user), n, _u32p(items), _lib.ptr(ratings),
                               C.byref(got))
        self._handle.check(st, "recommend")
        return items[:got.value].astype(np.int64), ratings[:got.value]
