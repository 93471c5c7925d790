#!/usr/bin/env python3
"""Measures NeuralPure's elementary functions against mpmath.

Usage:  dotnet run --project Pure.Bench -c Release -- elementary-grid /tmp/grid
        /usr/bin/python3 tools/elementary/accuracy.py /tmp/grid      (Debian: apt-get install python3-mpmath)

Each grid file holds lines "x y result" as hex bit patterns of doubles (y is pow's exponent, else 0). The reference is
mpmath at 300 bits; the error of a result is |result − exact| in units of the last place of the exact value in the
result's precision (double: 53 bits, float: 24 bits; below the smallest normal, the subnormal spacing). Special values
(NaN, ±∞, ±0, overflow, underflow) must match the IEEE / C99 result exactly. Prints one markdown table row per file.
"""
import math, os, struct, sys
import mpmath as mp

mp.mp.prec = 300

def d(h):
    return struct.unpack('<d', struct.pack('<Q', int(h, 16)))[0]

FUN = {
    'exp': lambda x, y: mp.exp(x),
    'expm1': lambda x, y: mp.expm1(x),
    'log': lambda x, y: mp.log(x),
    'log1p': lambda x, y: mp.log1p(x),
    'tanh': lambda x, y: mp.tanh(x),
    'erf': lambda x, y: mp.erf(x),
    'sinpi': lambda x, y: mp.sinpi(x),
    'cospi': lambda x, y: mp.cospi(x),
    'pow': lambda x, y: mp.power(x, y),
}

def ulp_of(v, mant, emin):
    if v == 0:
        return mp.ldexp(1, emin - mant + 1)
    e = int(mp.floor(mp.log(abs(v), 2)))
    return mp.ldexp(1, max(e, emin) - mant + 1)

def rounded(v, mant, emin, emax):
    """IEEE round-to-nearest of the exact value v: to compare special cases (overflow, underflow, signed zero)."""
    if v == 0:
        return 0.0
    e = int(mp.floor(mp.log(abs(v), 2)))
    if e > emax:
        return math.copysign(math.inf, 1 if v > 0 else -1)
    if e < emin - mant - 1:
        return math.copysign(0.0, 1 if v > 0 else -1)
    u = ulp_of(v, mant, emin)
    r = mp.nint(v / u) * u
    if abs(r) >= mp.ldexp(1, emax + 1):
        return math.copysign(math.inf, float(v))
    return float(r) if mant == 53 else struct.unpack('<f', struct.pack('<f', float(r)))[0]

def measure(path):
    name, prec = os.path.basename(path).split('.')[:2]
    mant, emin, emax = (53, -1022, 1023) if prec == 'double' else (24, -126, 127)
    worst, worst_at, n, above_half, special_bad = mp.mpf(0), None, 0, 0, []
    for line in open(path):
        xh, yh, rh = line.split()
        x, y, r = d(xh), d(yh), d(rh)
        xs = repr(x) if name != 'pow' else f'{x!r}, {y!r}'
        if math.isnan(x) or math.isnan(y) or math.isinf(x) or math.isinf(y) or (name == 'pow' and (x == 0 or y == 0 or (x < 0 and y != math.floor(y)))):
            special_bad += check_special(name, x, y, r, prec)
            continue
        try:
            exact = FUN[name](mp.mpf(x), mp.mpf(y))
        except (ValueError, ZeroDivisionError):
            special_bad += check_special(name, x, y, r, prec)
            continue
        if isinstance(exact, mp.mpc) or (name in ('log',) and x <= 0) or (name == 'log1p' and x <= -1):
            special_bad += check_special(name, x, y, r, prec)
            continue
        want = rounded(exact, mant, emin, emax)
        if math.isinf(want) or math.isinf(r) or want == 0 or r == 0:
            if not (r == want and math.copysign(1, r) == math.copysign(1, want)) and not (r == 0 and want == 0 and x == 0):
                # a result that rounds to ±0 or ±∞ must be exactly that
                if not (math.isinf(want) == math.isinf(r) and abs(mp.mpf(r) - exact) <= ulp_of(exact, mant, emin)):
                    special_bad.append(f'{name}({xs}) = {r!r}, exact rounds to {want!r}')
            continue
        err = abs(mp.mpf(r) - exact) / ulp_of(exact, mant, emin)
        n += 1
        if err > 0.5: above_half += 1
        if err > worst: worst, worst_at = err, xs
    return name, prec, n, float(worst), worst_at, above_half, special_bad

def check_special(name, x, y, r, prec):
    # NaN and infinite arguments, pow's zero and negative-base cases: Pure.Properties' ElementaryTests compares these
    # bit for bit with System.Math (C99 Annex F); nothing to measure here.
    return []

if __name__ == '__main__':
    folder = sys.argv[1]
    print('| function | precision | points | max error (ulp) | at | not correctly rounded | special-value mismatches |')
    print('|---|---|---|---|---|---|---|')
    bad = 0
    for f in sorted(os.listdir(folder)):
        if not f.endswith('.txt'): continue
        name, prec, n, worst, at, above, special = measure(os.path.join(folder, f))
        bad += len(special)
        print(f'| {name} | {prec} | {n} | {worst:.3f} | {at} | {above} ({100.0 * above / max(n, 1):.3f} %) | {len(special)} |', flush=True)
        for s in special[:5]: print('   ', s, file=sys.stderr)
    sys.exit(1 if bad else 0)
