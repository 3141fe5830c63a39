"""python-escpos, imported without leaving a temporary directory behind.

On import, python-escpos caches its printer profiles as a pickle in the
directory ESCPOS_CAPABILITIES_PICKLE_DIR names, and calls `tempfile.mkdtemp()`
either way (the default argument is evaluated first); it never removes that
directory, so every start of the server or of a test process left one more in
/tmp. The pickle is read or written only during the import, so the import runs
with both pointed into a private directory of our own, removed right after.
(A fixed shared path would be worse: a pickle loaded from a place another
local user can write is code they can run in the server.)
"""

from __future__ import annotations

import os
import sys
import tempfile

_VAR = "ESCPOS_CAPABILITIES_PICKLE_DIR"

if "escpos.capabilities" in sys.modules:
    from escpos.escpos import Escpos
    from escpos.printer import Dummy
else:
    with tempfile.TemporaryDirectory(prefix="hall-escpos-") as _cache:
        _saved = tempfile.tempdir, os.environ.get(_VAR)
        tempfile.tempdir, os.environ[_VAR] = _cache, _cache
        try:
            from escpos.escpos import Escpos
            from escpos.printer import Dummy
        finally:
            tempfile.tempdir = _saved[0]
            if _saved[1] is None:
                del os.environ[_VAR]
            else:
                os.environ[_VAR] = _saved[1]

__all__ = ["Dummy", "Escpos"]
