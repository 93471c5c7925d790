#!/usr/bin/env python3
"""Writes Pure.Properties/Numerics/elementary-reference.txt: points of each elementary function with the exact value
from mpmath at 300 bits, as a double pair hi + lo (hi the exact value rounded to nearest, lo the rest rounded), so that
ElementaryTests can measure the ulp error of NeuralPure's functions without mpmath.

Usage:  dotnet run --project Pure.Bench -c Release -- elementary-grid /tmp/grid
        /usr/bin/python3 tools/elementary/reference.py /tmp/grid Pure.Properties/Numerics/elementary-reference.txt
"""
import math, os, struct, sys
import mpmath as mp
mp.mp.prec = 300
sys.path.insert(0, os.path.dirname(__file__))
from accuracy import FUN, d  # noqa: E402

def h(v):
    return format(struct.unpack('<Q', struct.pack('<d', v))[0], '016x')

folder, out = sys.argv[1], sys.argv[2]
PER = 500
with open(out, 'w') as w:
    w.write('# NeuralPure elementary functions: reference values from mpmath %s at 300 bits (tools/elementary/reference.py).\n' % mp.__version__)
    w.write('# name x y hi lo (hex bits of doubles; y is pow\'s exponent, else 0): exact f(x[, y]) = hi + lo to about 2^-106.\n')
    for f in sorted(os.listdir(folder)):
        if not f.endswith('.double.txt'): continue
        name = f.split('.')[0]
        lines = open(os.path.join(folder, f)).read().split('\n')
        lines = [l for l in lines if l]
        step = max(1, len(lines) // PER)
        n = 0
        for l in lines[::step]:
            xh, yh, _ = l.split()
            x, y = d(xh), d(yh)
            if not (math.isfinite(x) and math.isfinite(y)): continue
            if name == 'pow' and (x <= 0 or y == 0): continue
            if name == 'log' and x <= 0: continue
            if name == 'log1p' and x <= -1: continue
            try:
                e = FUN[name](mp.mpf(x), mp.mpf(y))
            except (ValueError, ZeroDivisionError):
                continue
            if isinstance(e, mp.mpc) or e == 0: continue
            if abs(e) > mp.mpf(1.7976931348623157e308) or abs(e) < mp.mpf(2.2250738585072014e-308): continue
            hi = float(e)
            lo = float(e - mp.mpf(hi))
            w.write(f'{name} {h(x)} {h(y)} {h(hi)} {h(lo)}\n')
            n += 1
        print(name, n)
