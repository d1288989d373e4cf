"""Deep belief networks: greedy RBM pretraining (the top RBM learns the
labels), then fine-tuning as a feed-forward classifier, as `boltzcl train
dbn` does."""
import ctypes as C
import json

import numpy as np
from sklearn.base import ClassifierMixin, TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import column_or_1d

from . import _lib
from ._base import BoltzEstimator, Progress, as_rows, float32_tags, seed_of

L = _lib.lib


class _DBNBase(BoltzEstimator):
    _kind = "dbn"

    def __init__(self, hidden_layer_sizes=(500, 500), *, activation="sigmoid", pretrain=True,
                 pretrain_epochs=10, pretrain_learning_rate=0.05, pretrain_batch_size=100, k=1,
                 finetune_epochs=50, learning_rate=0.1, batch_size=32, momentum=0.9,
                 weight_decay=0.0, dropout=0.0, lr_decay=0.0, patience=10,
                 validation_fraction=0.1, verbose=0, random_state=None, device=None):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.pretrain = pretrain
        self.pretrain_epochs = pretrain_epochs
        self.pretrain_learning_rate = pretrain_learning_rate
        self.pretrain_batch_size = pretrain_batch_size
        self.k = k
        self.finetune_epochs = finetune_epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.dropout = dropout
        self.lr_decay = lr_decay
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.verbose = verbose
        self.random_state = random_state
        self.device = device

    def _sizes(self):
        hs = self.hidden_layer_sizes
        hs = [hs] if isinstance(hs, (int, np.integer)) else list(hs)
        if not 1 <= len(hs) <= 8 or not all(isinstance(h, (int, np.integer)) and h > 0
                                            for h in hs):
            raise ValueError(f"hidden_layer_sizes must be 1 to 8 positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        return [int(h) for h in hs]

    def _fit_dbn(self, X, y):
        hidden = self._sizes()
        act = {"sigmoid": 0, "relu": 1}.get(self.activation)
        if act is None:
            raise ValueError(f"activation must be 'sigmoid' or 'relu', got {self.activation!r}")
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y "
                             f"is None (the top RBM and the fine-tuning learn the labels)")
        X = as_rows(self, X, reset=True, unit_range=True)
        y = column_or_1d(y, warn=True)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]}")
        check_classification_targets(y)
        enc = LabelEncoder().fit(y)
        self.classes_ = enc.classes_
        K = len(self.classes_)
        if K < 2:
            raise ValueError(f"y has {K} class; a DBN classifier needs at least 2 classes")
        yi = np.ascontiguousarray(enc.transform(y), dtype=np.int32)
        rng = check_random_state(self.random_state)
        seed = seed_of(rng)
        ctx = self._ctx()
        sizes = (C.c_size_t * (len(hidden) + 1))(X.shape[1], *hidden)
        d = C.c_void_p()
        _lib.raise_for(L.bz_dbn_create(ctx.handle, sizes, len(hidden), K, act, seed,
                                       C.byref(d)), ctx.handle, "creating the DBN")
        self._handle = h = _lib.wrap(ctx, d.value, "dbn")
        dbn = L.bz_model_dbn(h.handle)
        stop = C.c_int(0)
        name = type(self).__name__
        if self.pretrain and self.pretrain_epochs > 0:
            o = _lib.RBMTrainOptions()
            L.bz_rbm_train_options_init(C.byref(o))
            o.batch_size = int(self.pretrain_batch_size)
            o.k = int(self.k)
            o.learning_rate = float(self.pretrain_learning_rate)
            o.seed = seed
            o.stop = C.pointer(stop)
            pbar = Progress(self.verbose, len(hidden) * int(self.pretrain_epochs),
                            f"{name} pretraining")

            def on_epoch(user, layer, epoch, st):
                pbar.epoch(f"[{name}] layer {layer + 1} epoch {epoch + 1}, reconstruction "
                           f"error = {st.contents.recon_mse:.5f}, {st.contents.seconds:.2f}s")
            cb = _lib.PRETRAIN_CB(on_epoch)
            try:
                _lib.run_interruptible(lambda: h.check(L.bz_dbn_pretrain(
                    dbn, _lib.ptr(X), _lib.ptr(yi), X.shape[0], C.byref(o),
                    int(self.pretrain_epochs), cb, None), "pretraining"), stop)
            finally:
                pbar.close()
        if self.finetune_epochs > 0:
            idx = rng.permutation(X.shape[0])
            nv = int(X.shape[0] * float(self.validation_fraction))
            if nv >= 1 and X.shape[0] - nv >= 1:
                vi, ti = np.sort(idx[:nv]), np.sort(idx[nv:])
                Xt, yt = np.ascontiguousarray(X[ti]), np.ascontiguousarray(yi[ti])
                Xv, yv = np.ascontiguousarray(X[vi]), np.ascontiguousarray(yi[vi])
            else:
                Xt, yt, Xv, yv, nv = X, yi, None, None, 0
            f = _lib.DBNFinetuneOptions()
            L.bz_dbn_finetune_options_init(C.byref(f))
            f.batch_size = int(self.batch_size)
            f.learning_rate = float(self.learning_rate)
            f.lr_decay = float(self.lr_decay)
            f.momentum = float(self.momentum)
            f.weight_decay = float(self.weight_decay)
            f.dropout = float(self.dropout)
            f.epochs = int(self.finetune_epochs)
            f.patience = int(self.patience)
            f.seed = seed
            f.stop = C.pointer(stop)
            fbar = Progress(self.verbose, int(self.finetune_epochs), f"{name} fine-tuning")

            def on_ft(user, e):
                e = e.contents
                fbar.epoch(f"[{name}] epoch {e.epoch + 1}, loss = {e.loss:.4f}, train "
                           f"accuracy = {e.train_accuracy:.4f}, validation accuracy = "
                           f"{e.val_accuracy:.4f}, {e.seconds:.2f}s")
            fcb = _lib.FINETUNE_CB(on_ft)
            res = _lib.DBNFinetuneResult()
            # Ctrl-C sets the stop flag: fine-tuning ends after the current
            # batch and the network keeps the weights of that batch.
            try:
                _lib.run_interruptible(lambda: h.check(L.bz_dbn_finetune(
                    dbn, _lib.ptr(Xt), _lib.ptr(yt), Xt.shape[0], _lib.ptr(Xv), _lib.ptr(yv),
                    nv, C.byref(f), fcb, None, C.byref(res)), "fine-tuning"), stop)
            finally:
                fbar.close()
            self.n_epochs_ = res.epochs_run
            self.best_epoch_ = res.best_epoch
            self.best_validation_score_ = res.best_val_accuracy if nv else None
        self.n_features_in_ = X.shape[1]
        self.n_layers_ = len(hidden) + 2
        return self

    def _from_handle(self, h):
        if h.kind != "dbn":
            raise _lib.FormatError(f"the file holds a {h.kind}, not a DBN")
        n = L.bz_model_n_layers(h.handle)
        sizes = [L.bz_model_layer_size(h.handle, i) for i in range(n)]
        self.hidden_layer_sizes = tuple(sizes[1:-1])
        self._restore_params(h, "hidden_layer_sizes")
        classes = h.meta("sklearn_classes")
        self.classes_ = np.array(json.loads(classes)) if classes else \
            np.arange(L.bz_model_n_classes(h.handle))
        self.n_features_in_ = sizes[0]
        self.n_layers_ = n + 1

    def _store_meta(self):
        h = self._handle
        self._store_params()
        h.set_meta("sklearn_classes", json.dumps(self.classes_.tolist()))
        h.set_meta("sklearn_estimator", type(self).__name__)

    def _rows(self, X):
        self._check_fitted()
        return as_rows(self, X, reset=False, unit_range=True)

    def _proba(self, X):
        X = self._rows(X)
        out = np.empty((X.shape[0], len(self.classes_)), np.float32)
        self._handle.check(L.bz_dbn_predict_proba(L.bz_model_dbn(self._handle.handle),
                                                  _lib.ptr(X), X.shape[0], _lib.ptr(out)),
                           "predict_proba")
        return out

    def _more_tags(self):
        return {"requires_y": True, "preserves_dtype": [np.float32]}

    def __sklearn_tags__(self):
        tags = float32_tags(super().__sklearn_tags__())
        tags.target_tags.required = True
        return tags


class DBNClassifier(ClassifierMixin, _DBNBase):
    """A DBN classifier: fit(X, y) with integer or string labels, X in
    [0, 1]; predict, predict_proba, score, classes_."""

    def fit(self, X, y):
        return self._fit_dbn(X, y)

    def predict_proba(self, X):
        return self._proba(X).astype(np.float64)

    def predict_log_proba(self, X):
        return np.log(np.clip(self.predict_proba(X), 1e-30, None))

    def predict(self, X):
        proba = self._proba(X)  # checks fitted first
        return self.classes_[np.argmax(proba, axis=1)]


class DBNTransformer(TransformerMixin, _DBNBase):
    """A DBN trained as DBNClassifier is (the labels are needed), used for
    its top hidden layer's activations as features."""

    def __sklearn_tags__(self):
        tags = float32_tags(super().__sklearn_tags__())
        tags.target_tags.required = True
        return tags

    def fit(self, X, y):
        return self._fit_dbn(X, y)

    def transform(self, X):
        X = self._rows(X)
        out = np.empty((X.shape[0], self._sizes()[-1]), np.float32)
        self._handle.check(L.bz_dbn_transform(L.bz_model_dbn(self._handle.handle),
                                              _lib.ptr(X), X.shape[0], _lib.ptr(out)),
                           "transform")
        return out
