"""The ctypes mirrors of boltzcl.h's structs have the C layout.

A struct that gains a field in the header while its ctypes twin does not
makes the library write past the Python object: memory corruption that
shows up far from its cause. So every mirrored struct's size and every
field's offset are compared with what the C compiler says, from the header
in this source tree.
"""
import ctypes as C
import os
import shutil
import subprocess

import pytest

from boltzcl import _lib

HEADER_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "include")

# ctypes class -> C type name
MIRRORS = {
    _lib.ContextOptions: "bz_context_options",
    _lib.RBMTrainOptions: "bz_rbm_train_options",
    _lib.RBMEpochStats: "bz_rbm_epoch_stats",
    _lib.AISOptions: "bz_ais_options",
    _lib.AISResult: "bz_ais_result",
    _lib.DBNFinetuneOptions: "bz_dbn_finetune_options",
    _lib.DBNEpochInfo: "bz_dbn_epoch_info",
    _lib.DBNFinetuneResult: "bz_dbn_finetune_result",
    _lib.DBMTrainOptions: "bz_dbm_train_options",
    _lib.DBMEpochStats: "bz_dbm_epoch_stats",
    _lib.DeviceDesc: "bz_device_desc",
    _lib.CFTrainOptions: "bz_cf_train_options",
    _lib.CFInfo: "bz_cf_info",
    _lib.TrainProgress: "bz_train_progress",
    _lib.TrainOptions: "bz_train_options",
    _lib.TrainResult: "bz_train_result",
}


def _c_layout(tmp_path):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc or not os.path.exists(os.path.join(HEADER_DIR, "boltzcl.h")):
        pytest.skip("no C compiler or no boltzcl.h beside the tests")
    lines = ["#include <stddef.h>", "#include <stdio.h>", "#include <boltzcl.h>",
             "int main(void) {"]
    for cls, name in MIRRORS.items():
        lines.append(f'printf("{name} size %zu\\n", sizeof({name}));')
        for field, _ in cls._fields_:
            lines.append(f'printf("{name} {field} %zu\\n", offsetof({name}, {field}));')
    lines += ["return 0; }"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "layout"
    subprocess.run([cc, "-std=c11", "-I", HEADER_DIR, str(src), "-o", str(exe)], check=True)
    out = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout
    return {tuple(l.split()[:2]): int(l.split()[2]) for l in out.splitlines()}


def test_struct_layouts_match_the_header(tmp_path):
    c = _c_layout(tmp_path)
    wrong = []
    for cls, name in MIRRORS.items():
        if C.sizeof(cls) != c[(name, "size")]:
            wrong.append(f"{name}: ctypes size {C.sizeof(cls)}, C size {c[(name, 'size')]}")
        for field, _ in cls._fields_:
            off = getattr(cls, field).offset
            if off != c[(name, field)]:
                wrong.append(f"{name}.{field}: ctypes offset {off}, C offset {c[(name, field)]}")
    assert not wrong, "\n".join(wrong)
