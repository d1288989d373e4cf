"""boltzcl: Boltzmann machines (RBM, DBN, DBM, ratings RBM) on any OpenCL device, as
scikit-learn estimators.

    >>> import boltzcl
    >>> boltzcl.devices()                      # the OpenCL devices
    >>> rbm = boltzcl.BernoulliRBM(n_components=100, device="cpu").fit(X)
    >>> rbm.save("rbm.safetensors"); boltzcl.load("rbm.safetensors")
"""
from ._lib import (Error, InvalidArgumentError, NoPlatformError, NoDeviceError, OpenCLError,
                   BuildError, BlasError, HostMemoryError, DeviceMemoryError, FileError,
                   FormatError, ShapeError, SelfTestError, DivergedError, UnsupportedError,
                   InterruptedError_ as TrainingInterrupted, InternalError, STATUS_ERRORS,
                   devices, lib as _native)
from ._base import load
from .rbm import BernoulliRBM, GaussianRBM
from .dbn import DBNClassifier, DBNTransformer
from .dbm import DBM
from .ratings import RatingsRBM

__version__ = _native.bz_version_string().decode()

__all__ = ["BernoulliRBM", "GaussianRBM", "DBNClassifier", "DBNTransformer", "DBM",
           "RatingsRBM", "load",
           "devices", "Error", "InvalidArgumentError", "NoPlatformError", "NoDeviceError",
           "OpenCLError", "BuildError", "BlasError", "HostMemoryError", "DeviceMemoryError",
           "FileError", "FormatError", "ShapeError", "SelfTestError", "DivergedError",
           "UnsupportedError", "TrainingInterrupted", "InternalError", "STATUS_ERRORS"]
