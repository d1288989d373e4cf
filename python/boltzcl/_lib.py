"""ctypes binding of libboltzcl's public API (boltzcl.h), the errors it
raises, device contexts, and the one place that runs long device calls.

ctypes drops the GIL around every foreign call, so other Python threads run
while the device works. Long calls run in a worker thread so that Ctrl-C
reaches the main thread at once; it then sets the training options' stop
flag, waits for the current batch to end and re-raises KeyboardInterrupt.
"""
import ctypes as C
import os
import threading

_HERE = os.path.dirname(os.path.abspath(__file__))


def _open_library():
    names = []
    if os.environ.get("BOLTZCL_LIBRARY"):
        names.append(os.environ["BOLTZCL_LIBRARY"])
    names.append(os.path.join(_HERE, "_libboltzcl.so"))
    names.append("libboltzcl.so.1")
    errors = []
    for n in names:
        if n != names[-1] and not os.path.exists(n):
            continue
        try:
            return C.CDLL(n)
        except OSError as e:  # try the next candidate
            errors.append(f"{n}: {e}")
    raise ImportError("boltzcl: cannot load the native library (" + "; ".join(errors) + ")")


lib = _open_library()

ABI_VERSION = 1
if lib.bz_abi_version() != ABI_VERSION:
    raise ImportError(f"boltzcl: native library ABI {lib.bz_abi_version()}, "
                      f"this package needs {ABI_VERSION}")

# ---------------------------------------------------------------- errors ---


class Error(Exception):
    """A boltzcl failure. `status` is the pinned bz_status code, `message`
    the library's detailed bz_last_error text (may be empty)."""
    status = None

    def __init__(self, message, status=None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class InvalidArgumentError(Error, ValueError): status = 1
class NoPlatformError(Error): status = 2
class NoDeviceError(Error): status = 3
class OpenCLError(Error): status = 4
class BuildError(Error): status = 5
class BlasError(Error): status = 6
class HostMemoryError(Error, MemoryError): status = 7
class DeviceMemoryError(Error, MemoryError): status = 8
class FileError(Error, OSError): status = 9
class FormatError(Error, ValueError): status = 10
class ShapeError(Error, ValueError): status = 11
class SelfTestError(Error): status = 12
class DivergedError(Error, ArithmeticError): status = 13
class UnsupportedError(Error, NotImplementedError): status = 14
class InterruptedError_(Error): status = 15
class InternalError(Error): status = 16


STATUS_ERRORS = {cls.status: cls for cls in (
    InvalidArgumentError, NoPlatformError, NoDeviceError, OpenCLError, BuildError,
    BlasError, HostMemoryError, DeviceMemoryError, FileError, FormatError, ShapeError,
    SelfTestError, DivergedError, UnsupportedError, InterruptedError_, InternalError)}

# ------------------------------------------------------------ signatures ---

c_size_p = C.POINTER(C.c_size_t)
f32p = C.POINTER(C.c_float)
i32p = C.POINTER(C.c_int32)
u32p = C.POINTER(C.c_uint32)
vp = C.c_void_p


class ContextOptions(C.Structure):
    _fields_ = [("device", C.c_char_p), ("log", vp), ("log_user", vp), ("log_level", C.c_int),
                ("skip_selftest", C.c_int), ("binary_cache", C.c_int),
                ("cache_dir", C.c_char_p), ("kernel_dir", C.c_char_p),
                ("tuning_file", C.c_char_p)]


PROGRESS_FN = C.CFUNCTYPE(None, vp, C.c_size_t, C.c_size_t)


class RBMTrainOptions(C.Structure):
    _fields_ = [("batch_size", C.c_size_t), ("k", C.c_uint), ("pcd", C.c_int),
                ("learning_rate", C.c_float), ("momentum_initial", C.c_float),
                ("momentum_final", C.c_float), ("momentum_epochs", C.c_uint),
                ("weight_decay", C.c_float), ("sparsity_target", C.c_float),
                ("sparsity_cost", C.c_float), ("lr_decay", C.c_float),
                ("stochastic_binarize", C.c_int), ("seed", C.c_uint64),
                ("progress", vp), ("progress_user", vp),
                ("stop", C.POINTER(C.c_int)), ("start_batch", C.c_size_t),
                ("no_padding", C.c_int)]


class RBMEpochStats(C.Structure):
    _fields_ = [("recon_mse", C.c_double), ("seconds", C.c_double),
                ("samples_per_s", C.c_double), ("samples", C.c_size_t),
                ("batches_done", C.c_size_t)]


class AISOptions(C.Structure):
    _fields_ = [("runs", C.c_uint), ("betas", C.c_uint), ("seed", C.c_uint64),
                ("collapsed_every", C.c_uint), ("hop_every", C.c_uint),
                ("uniform_base", C.c_int)]


class AISResult(C.Structure):
    _fields_ = [("log_z", C.c_double), ("log_z_sd", C.c_double),
                ("log_z_lo", C.c_double), ("log_z_hi", C.c_double)]


class DBNFinetuneOptions(C.Structure):
    _fields_ = [("batch_size", C.c_size_t), ("learning_rate", C.c_float),
                ("lr_decay", C.c_float), ("momentum", C.c_float),
                ("weight_decay", C.c_float), ("dropout", C.c_float),
                ("epochs", C.c_uint), ("patience", C.c_uint), ("seed", C.c_uint64),
                ("no_padding", C.c_int),
                ("progress", vp), ("progress_user", vp),
                ("stop", C.POINTER(C.c_int)), ("start_batch", C.c_size_t)]


class DBNEpochInfo(C.Structure):
    _fields_ = [("epoch", C.c_uint), ("loss", C.c_double), ("train_accuracy", C.c_double),
                ("val_accuracy", C.c_double), ("seconds", C.c_double)]


class DBNFinetuneResult(C.Structure):
    _fields_ = [("epochs_run", C.c_uint), ("best_epoch", C.c_uint),
                ("best_val_accuracy", C.c_double), ("seconds", C.c_double),
                ("seconds_per_epoch", C.c_double)]


class DBMTrainOptions(C.Structure):
    _fields_ = [("batch_size", C.c_size_t), ("chains", C.c_size_t), ("mf_iters", C.c_uint),
                ("mf_tol", C.c_float), ("gibbs_steps", C.c_uint),
                ("learning_rate", C.c_float), ("lr_decay", C.c_float),
                ("momentum_initial", C.c_float), ("momentum_final", C.c_float),
                ("momentum_epochs", C.c_uint), ("weight_decay", C.c_float),
                ("seed", C.c_uint64),
                ("progress", vp), ("progress_user", vp),
                ("stop", C.POINTER(C.c_int)), ("start_batch", C.c_size_t)]


class DBMEpochStats(C.Structure):
    _fields_ = [("seconds", C.c_double), ("mean_sweeps", C.c_double),
                ("samples", C.c_size_t), ("batches_done", C.c_size_t)]


class DeviceDesc(C.Structure):
    _fields_ = [("platform_index", C.c_uint), ("device_index", C.c_uint),
                ("platform", C.c_char * 128), ("name", C.c_char * 256),
                ("vendor", C.c_char * 128), ("driver", C.c_char * 128),
                ("version", C.c_char * 128), ("is_gpu", C.c_int), ("is_cpu", C.c_int),
                ("compute_units", C.c_uint), ("global_mem", C.c_uint64),
                ("max_alloc", C.c_uint64)]


class CFTrainOptions(C.Structure):
    _fields_ = [("hidden", C.c_size_t), ("item_based", C.c_int), ("conditional", C.c_int),
                ("epochs", C.c_uint), ("batch_size", C.c_size_t),
                ("learning_rate", C.c_float), ("lr_decay", C.c_float),
                ("momentum_initial", C.c_float), ("momentum_final", C.c_float),
                ("momentum_epochs", C.c_uint), ("weight_decay", C.c_float),
                ("cd_start", C.c_uint), ("cd_max", C.c_uint), ("cd_every", C.c_uint),
                ("mean_field", C.c_int), ("seed", C.c_uint64)]


class CFInfo(C.Structure):
    _fields_ = [("n_users", C.c_size_t), ("n_items", C.c_size_t), ("n_ratings", C.c_size_t),
                ("hidden", C.c_size_t), ("lo", C.c_float), ("hi", C.c_float),
                ("step", C.c_float), ("item_based", C.c_int), ("conditional", C.c_int),
                ("mean_rating", C.c_float)]


class TrainProgress(C.Structure):
    _fields_ = [("kind", C.c_char_p), ("phase", C.c_char_p), ("layer", C.c_uint),
                ("layers", C.c_uint), ("epoch", C.c_uint), ("epochs", C.c_uint),
                ("batch", C.c_size_t), ("batches", C.c_size_t), ("epoch_done", C.c_int),
                ("metrics_json", C.c_char_p), ("summary", C.c_char_p)]


TRAIN_PROGRESS_CB = C.CFUNCTYPE(None, vp, C.POINTER(TrainProgress))


class TrainOptions(C.Structure):
    _fields_ = [("checkpoint", C.c_char_p), ("resume", C.c_int), ("resume_from", C.c_char_p),
                ("overwrite", C.c_int), ("fingerprint", C.c_char_p),
                ("progress", TRAIN_PROGRESS_CB), ("progress_user", vp)]


class TrainResult(C.Structure):
    _fields_ = [("phase", C.c_char_p), ("layer", C.c_uint), ("epoch", C.c_uint),
                ("batch", C.c_size_t), ("epochs_run", C.c_uint), ("seconds", C.c_double),
                ("checkpoint_written", C.c_int), ("stop_signal", C.c_int)]


PRETRAIN_CB = C.CFUNCTYPE(None, vp, C.c_size_t, C.c_uint, C.POINTER(RBMEpochStats))
FINETUNE_CB = C.CFUNCTYPE(None, vp, C.POINTER(DBNEpochInfo))

_S = C.c_int  # bz_status
_SIGS = {
    "bz_version_string": (C.c_char_p, []),
    "bz_strerror": (C.c_char_p, [C.c_int]),
    "bz_context_options_init": (None, [C.POINTER(ContextOptions)]),
    "bz_context_create": (_S, [C.POINTER(ContextOptions), C.POINTER(vp)]),
    "bz_context_free": (None, [vp]),
    "bz_last_error": (C.c_char_p, [vp]),
    "bz_device_name": (C.c_char_p, [vp]),
    "bz_device_driver": (C.c_char_p, [vp]),
    "bz_rbm_create": (_S, [vp, C.c_size_t, C.c_size_t, C.c_int, C.c_uint64, C.POINTER(vp)]),
    "bz_rbm_free": (None, [vp]),
    "bz_rbm_n_visible": (C.c_size_t, [vp]),
    "bz_rbm_n_hidden": (C.c_size_t, [vp]),
    "bz_rbm_visible_type": (C.c_int, [vp]),
    "bz_rbm_get_params": (_S, [vp, f32p, f32p, f32p]),
    "bz_rbm_set_params": (_S, [vp, f32p, f32p, f32p]),
    "bz_rbm_transform": (_S, [vp, f32p, C.c_size_t, f32p]),
    "bz_rbm_reconstruct": (_S, [vp, f32p, C.c_size_t, f32p]),
    "bz_rbm_free_energy": (_S, [vp, f32p, C.c_size_t, f32p]),
    "bz_rbm_sample": (_S, [vp, f32p, C.c_size_t, C.c_uint, C.c_uint64, f32p]),
    "bz_data_create": (_S, [vp, f32p, C.c_size_t, C.c_size_t, C.POINTER(vp)]),
    "bz_data_free": (None, [vp]),
    "bz_rbm_train_options_init": (None, [C.POINTER(RBMTrainOptions)]),
    "bz_rbm_train_epoch": (_S, [vp, vp, C.POINTER(RBMTrainOptions), C.c_uint,
                               C.POINTER(RBMEpochStats)]),
    "bz_rbm_pseudo_log_likelihood": (_S, [vp, vp, C.c_uint64, C.POINTER(C.c_double)]),
    "bz_ais_options_init": (None, [C.POINTER(AISOptions)]),
    "bz_rbm_set_standardization": (_S, [vp, f32p, f32p]),
    "bz_rbm_get_standardization": (C.c_int, [vp, f32p, f32p]),
    "bz_dbn_create": (_S, [vp, c_size_p, C.c_size_t, C.c_size_t, C.c_int, C.c_uint64,
                           C.POINTER(vp)]),
    "bz_dbn_free": (None, [vp]),
    "bz_dbn_pretrain": (_S, [vp, f32p, i32p, C.c_size_t, C.POINTER(RBMTrainOptions), C.c_uint,
                             PRETRAIN_CB, vp]),
    "bz_dbn_finetune_options_init": (None, [C.POINTER(DBNFinetuneOptions)]),
    "bz_dbn_finetune": (_S, [vp, f32p, i32p, C.c_size_t, f32p, i32p, C.c_size_t,
                             C.POINTER(DBNFinetuneOptions), FINETUNE_CB, vp,
                             C.POINTER(DBNFinetuneResult)]),
    "bz_dbn_predict_proba": (_S, [vp, f32p, C.c_size_t, f32p]),
    "bz_dbn_transform": (_S, [vp, f32p, C.c_size_t, f32p]),
    "bz_dbm_create": (_S, [vp, c_size_p, C.c_size_t, C.c_uint64, C.POINTER(vp)]),
    "bz_dbm_free": (None, [vp]),
    "bz_dbm_train_options_init": (None, [C.POINTER(DBMTrainOptions)]),
    "bz_dbm_pretrain": (_S, [vp, f32p, C.c_size_t, C.POINTER(RBMTrainOptions), C.c_uint,
                             PRETRAIN_CB, vp]),
    "bz_dbm_train_epoch": (_S, [vp, vp, C.POINTER(DBMTrainOptions), C.c_uint,
                                C.POINTER(DBMEpochStats)]),
    "bz_dbm_transform": (_S, [vp, f32p, C.c_size_t, C.c_uint, C.c_float, f32p]),
    "bz_dbm_sample": (_S, [vp, C.c_size_t, C.c_uint, C.c_uint64, f32p]),
    "bz_dbm_mean_bound": (_S, [vp, f32p, C.c_size_t, C.c_uint, C.c_float,
                               C.POINTER(C.c_double)]),
    "bz_dbm_ais": (_S, [vp, f32p, C.c_size_t, C.POINTER(AISOptions), C.POINTER(AISResult)]),
    "bz_model_load": (_S, [vp, C.c_char_p, C.POINTER(vp)]),
    "bz_model_save": (_S, [vp, C.c_char_p]),
    "bz_model_free": (None, [vp]),
    "bz_model_from_rbm": (_S, [C.POINTER(vp), C.POINTER(vp)]),
    "bz_model_from_dbn": (_S, [C.POINTER(vp), C.POINTER(vp)]),
    "bz_model_from_dbm": (_S, [C.POINTER(vp), C.POINTER(vp)]),
    "bz_model_rbm": (vp, [vp]),
    "bz_model_dbn": (vp, [vp]),
    "bz_model_dbm": (vp, [vp]),
    "bz_model_get_kind": (vp, [vp]),
    "bz_model_kind_name": (C.c_char_p, [vp]),
    "bz_model_kind_of_file": (vp, [C.c_char_p]),
    "bz_model_n_inputs": (C.c_size_t, [vp]),
    "bz_model_n_features": (C.c_size_t, [vp]),
    "bz_model_n_classes": (C.c_size_t, [vp]),
    "bz_model_n_layers": (C.c_size_t, [vp]),
    "bz_model_layer_size": (C.c_size_t, [vp, C.c_size_t]),
    "bz_model_get_meta": (C.c_char_p, [vp, C.c_char_p]),
    "bz_model_set_meta": (_S, [vp, C.c_char_p, C.c_char_p]),
    "bz_model_score": (_S, [vp, C.c_int, f32p, C.c_size_t, C.c_uint64,
                            C.POINTER(C.c_double)]),
    "bz_model_log_z": (_S, [vp, C.POINTER(AISOptions), f32p, C.c_size_t,
                            C.POINTER(AISResult)]),
    "bz_devices_query": (_S, [C.POINTER(C.POINTER(DeviceDesc)), c_size_p]),
    "bz_devices_pick": (C.c_long, [C.POINTER(DeviceDesc), C.c_size_t, C.c_char_p]),
    "bz_cf_train_options_init": (None, [C.POINTER(CFTrainOptions)]),
    "bz_cf_create_from_ratings": (_S, [vp, u32p, u32p, f32p, C.c_size_t, C.c_float, C.c_float,
                                       C.c_float, C.POINTER(CFTrainOptions), C.POINTER(vp)]),
    "bz_cf_free": (None, [vp]),
    "bz_cf_get_info": (_S, [vp, C.POINTER(CFInfo)]),
    "bz_cf_get_ids": (_S, [vp, u32p, u32p]),
    "bz_cf_trainer_create": (_S, [vp, C.POINTER(CFTrainOptions), C.POINTER(vp)]),
    "bz_cf_predict_ratings": (_S, [vp, u32p, u32p, C.c_size_t, f32p, c_size_p]),
    "bz_cf_recommend": (_S, [vp, C.c_uint32, C.c_size_t, u32p, f32p, c_size_p]),
    "bz_cf_evaluate": (_S, [vp, u32p, u32p, f32p, C.c_size_t, C.POINTER(C.c_double),
                            C.POINTER(C.c_double)]),
    "bz_model_from_cf": (_S, [C.POINTER(vp), C.POINTER(vp)]),
    "bz_model_cf": (vp, [vp]),
    "bz_train_options_init": (None, [C.POINTER(TrainOptions)]),
    "bz_trainer_run": (_S, [vp, C.POINTER(TrainOptions), C.POINTER(TrainResult)]),
    "bz_trainer_free": (None, [vp]),
    "bz_request_stop": (None, [C.c_int]),
    "bz_clear_stop": (None, []),
    "bz_stop_requested": (C.c_int, []),
}
for _name, (_res, _args) in _SIGS.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args

_libc = C.CDLL(None)
_libc.free.argtypes = [vp]
_libc.free.restype = None


def _text(b):
    return b.decode("utf-8", "replace") if b else ""


def raise_for(status, ctx=None, what=""):
    """Raises the exception class of a non-zero bz_status, with the
    context's bz_last_error as the message."""
    if status == 0:
        return
    detail = _text(lib.bz_last_error(ctx)) if ctx else ""
    msg = detail or _text(lib.bz_strerror(status))
    if what:
        msg = f"{what}: {msg}"
    raise STATUS_ERRORS.get(status, Error)(msg, status)


def ptr(a):
    """float32/int32 array -> pointer to its data (no copy); None -> NULL."""
    if a is None:
        return None
    return a.ctypes.data_as(i32p if a.dtype.kind == "i" else f32p)


# --------------------------------------------------------------- devices ---


def devices():
    """Every OpenCL device as a list of dicts, in the order "P:D" selects."""
    out = C.POINTER(DeviceDesc)()
    n = C.c_size_t(0)
    raise_for(lib.bz_devices_query(C.byref(out), C.byref(n)), what="listing OpenCL devices")
    try:
        auto = lib.bz_devices_pick(out, n.value, None)
        res = []
        for i in range(n.value):
            d = out[i]
            res.append({
                "id": f"{d.platform_index}:{d.device_index}",
                "name": _text(d.name), "platform": _text(d.platform),
                "vendor": _text(d.vendor), "driver": _text(d.driver),
                "version": _text(d.version), "type": "gpu" if d.is_gpu else
                ("cpu" if d.is_cpu else "other"),
                "compute_units": d.compute_units, "global_mem": d.global_mem,
                "max_alloc": d.max_alloc, "default": i == auto})
        return res
    finally:
        _libc.free(out)


class Context:
    """An OpenCL context on one device (kernels compiled, self-test run)."""

    def __init__(self, device):
        o = ContextOptions()
        lib.bz_context_options_init(C.byref(o))
        self._device_b = device.encode() if device else None
        o.device = self._device_b
        tuning = os.path.join(_HERE, "tuning", "pocl-cpu.jsonl")
        if not os.environ.get("BOLTZCL_TUNING_FILE") and os.path.exists(tuning):
            self._tuning_b = tuning.encode()
            o.tuning_file = self._tuning_b
        h = vp()
        st = lib.bz_context_create(C.byref(o), C.byref(h))
        self.handle = h.value
        if st != 0:
            try:
                raise_for(st, self.handle, f"device {device!r}" if device else "device")
            finally:
                if self.handle:
                    lib.bz_context_free(self.handle)
                self.handle = None
        self.device_name = _text(lib.bz_device_name(self.handle))

    def __del__(self):
        if getattr(self, "handle", None):
            lib.bz_context_free(self.handle)
            self.handle = None


_contexts = {}
_contexts_lock = threading.Lock()


def context(device=None):
    """The shared context for a device selector (created once per process:
    creation compiles kernels and runs the self-test)."""
    if device is not None and not isinstance(device, str):
        raise InvalidArgumentError(f"device must be a string such as 'gpu', 'cpu', '0:1' or "
                                   f"part of a device name, not {device!r}")
    key = device or os.environ.get("BOLTZCL_DEVICE") or ""
    with _contexts_lock:
        ctx = _contexts.get(key)
        if ctx is None:
            ctx = Context(key or None)
            _contexts[key] = ctx
        return ctx


# ---------------------------------------------------------- long calls ---


def run_interruptible(fn, stop=None):
    """Runs fn() (which makes foreign calls) in a worker thread. A
    KeyboardInterrupt in the main thread sets `stop` (a ctypes c_int the
    C loop polls after each batch), waits for the worker to end and
    re-raises, so the model is left whole after its last complete batch."""
    result = {}

    def body():
        try:
            result["value"] = fn()
        except BaseException as e:  # handed to the caller's thread
            result["error"] = e

    t = threading.Thread(target=body, daemon=True)
    t.start()
    try:
        while t.is_alive():
            t.join(0.05)
    except KeyboardInterrupt:
        if stop is not None:
            stop.value = 1
        t.join()
        raise
    if "error" in result:
        raise result["error"]
    return result.get("value")


class Handle:
    """Owns a bz_model (and the context it lives on)."""

    def __init__(self, ctx, handle):
        self.ctx = ctx
        self.handle = handle

    def __del__(self):
        if getattr(self, "handle", None):
            lib.bz_model_free(self.handle)
            self.handle = None

    @property
    def kind(self):
        return _text(lib.bz_model_kind_name(lib.bz_model_get_kind(self.handle)))

    def check(self, status, what=""):
        raise_for(status, self.ctx.handle, what)

    def meta(self, key):
        v = lib.bz_model_get_meta(self.handle, key.encode())
        return None if v is None else _text(v)

    def set_meta(self, key, value):
        self.check(lib.bz_model_set_meta(self.handle, key.encode(), str(value).encode()),
                   f"metadata {key}")

    def save(self, path):
        self.check(lib.bz_model_save(self.handle, os.fsencode(path)), f"saving {path}")


def wrap(ctx, typed, kind):
    """Typed handle (int) -> Handle owning a bz_model."""
    t = vp(typed)
    m = vp()
    fn = {"rbm": lib.bz_model_from_rbm, "dbn": lib.bz_model_from_dbn,
          "dbm": lib.bz_model_from_dbm, "cf": lib.bz_model_from_cf}[kind]
    st = fn(C.byref(t), C.byref(m))
    if st != 0:
        {"rbm": lib.bz_rbm_free, "dbn": lib.bz_dbn_free, "dbm": lib.bz_dbm_free,
         "cf": lib.bz_cf_free}[kind](t)
        raise_for(st, ctx.handle, "wrapping a model")
    return Handle(ctx, m.value)


def load_handle(path, device=None):
    ctx = context(device)
    p = os.fsencode(os.fspath(path))
    m = vp()
    raise_for(lib.bz_model_load(ctx.handle, p, C.byref(m)), ctx.handle,
              f"loading {os.fspath(path)}")
    return Handle(ctx, m.value)


def file_kind(path):
    k = lib.bz_model_kind_of_file(os.fsencode(os.fspath(path)))
    return _text(lib.bz_model_kind_name(k)) if k else None
