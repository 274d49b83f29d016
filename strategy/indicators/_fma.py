"""Fused multiply-add for numba kernels: ``fma(a, b, c) == a * b + c`` with one rounding.

Wilder/EMA recurrences are latency-bound; one FMA instead of a multiply then an add
shortens the loop-carried chain and beat TA-Lib here.  Streams call ``math.fma``, which is
the same correctly rounded operation, so batch and stream stay bit-identical.
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` rounded once (LLVM's ``llvm.fma.f64``; hardware FMA where available)."""
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        double = ir.DoubleType()
        fn_type = ir.FunctionType(double, [double, double, double])
        fn = cgutils.get_or_insert_function(builder.module, fn_type, "llvm.fma.f64")
        return builder.call(fn, args)

    return sig, codegen
