#!/usr/bin/env python3
"""How far any curve with issue 16's limits could bring the shared mixes toward each other:
an upper bound on the distance fall that tests/benches/reference_match.py measures.

For each ordered pair of ../shared/audio/mixes, the curve on the 1/6-octave grid (31 Hz to
18 kHz, interpolated in log frequency onto the analysis bins) that minimises the very figure
../shared/tools/spectral_distance.py computes (1/3-octave bands, 40 Hz-16 kHz, level-
normalised, whole files), subject to
  - |curve| <= LIMIT dB at every point (the curve limit, default 6),
  - neighbouring points no more than STEP dB apart from 30 Hz to 16 kHz (item 1: 1.0),
  - at most +3 dB below 40 Hz (item 3, as if the mix always had content there),
at a free overall level (the distance does not see it). No EQ sections, no limiter, no
analysis of the loudest half: the curve is applied exactly, so no renderer can do better
under the same limits. Solved with SciPy's SLSQP (a local method on a nearly convex problem).

Usage: python3 tests/benches/reference_bound.py [--limit DB ...] [--step DB]
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
from scipy.optimize import minimize
from scipy.signal import welch

ROOT = Path(__file__).resolve().parents[2]
MIXES = sorted((ROOT.parent / "shared" / "audio" / "mixes").glob("*.flac"))
SR = 48000
CENTRES3 = 1000 * 2 ** (np.arange(-14, 13) / 3)
K = np.arange(-30, 26)
F6 = 1000 * 2.0 ** (K / 6)


def load(p):
    # As spectral_distance.py reads a file.
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", str(p), "-ac", "1", "-ar", str(SR),
                          "-f", "f64le", "-"], capture_output=True, check=True).stdout
    return welch(np.frombuffer(raw, "<f8"), SR, nperseg=8192)


def bands(f, p):
    e = np.array([p[(f >= c / 2 ** (1 / 6)) & (f < c * 2 ** (1 / 6))].sum() for c in CENTRES3])
    e = e / e.sum()
    return 10 * np.log10(e + 1e-30)


def main():
    args = sys.argv[1:]
    limits = [float(a) for i, a in enumerate(args) if i > 0 and args[i - 1] == "--limit"] or [6.0]
    step = float(args[args.index("--step") + 1]) if "--step" in args else 1.0
    spectra = {m.stem: load(m) for m in MIXES}
    f = next(iter(spectra.values()))[0]
    logf = np.log2(np.maximum(f, 1.0))
    steps = np.diff(np.eye(len(K)), axis=0)[(F6[:-1] >= 30) & (F6[1:] <= 16000)]
    for limit in limits:
        falls = []
        for a in spectra:
            for b in spectra:
                if a == b:
                    continue
                pa, pb = spectra[a][1], spectra[b][1]
                target = bands(f, pb)
                before = np.sqrt(np.mean((bands(f, pa) - target) ** 2))

                def objective(c):
                    g = np.interp(logf, np.log2(F6), c)
                    return np.mean((bands(f, pa * 10 ** (g / 10)) - target) ** 2)

                cons = [{"type": "ineq", "fun": lambda c: step - steps @ c},
                        {"type": "ineq", "fun": lambda c: step + steps @ c}]
                upper = np.where(F6 < 40, 3.0, limit)
                r = minimize(objective, np.zeros(len(K)), method="SLSQP", constraints=cons,
                             bounds=list(zip(-limit * np.ones(len(K)), upper)),
                             options={"maxiter": 500})
                fall = 100 * (1 - np.sqrt(r.fun) / before)
                falls.append(fall)
                print(f"limit ±{limit:g} dB: {a} <- {b}: {before:.2f} -> {np.sqrt(r.fun):.2f} dB "
                      f"({fall:.0f} %)", file=sys.stderr, flush=True)
        print(f"limit ±{limit:g} dB, step {step:g} dB: best mean fall {np.mean(falls):.1f} % "
              f"(least {min(falls):.1f} %)")


if __name__ == "__main__":
    main()
