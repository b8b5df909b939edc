#!/usr/bin/env python3
"""Reference matching on the shared mixes (issue 16, item 4): each mix in ../shared/audio/mixes
mastered against each other one as its reference at 100 % (12 ordered pairs), and the
1/3-octave distance to the reference (../shared/tools/spectral_distance.py) before and after,
beside Matchering 2.0.6 on the same pairs when it is installed (`pip install matchering`).

Usage (from the repository root, after `cargo build --profile ci -p xtask`):

    python3 tests/benches/reference_match.py [OUTDIR] [--smoothing OCT] [--no-matchering]

RENDER_CMD overrides the renderer (default: target/ci/xtask render). Prints a markdown table.
"""
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
MIXES = sorted((SHARED / "audio" / "mixes").glob("*.flac"))
DISTANCE = SHARED / "tools" / "spectral_distance.py"


def distance(a, b):
    out = subprocess.run([sys.executable, str(DISTANCE), str(a), str(b)],
                         capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def render(mix, ref, out, smoothing):
    cmd = shlex.split(os.environ.get("RENDER_CMD", str(ROOT / "target" / "ci" / "xtask") + " render"))
    cmd += [str(mix), "--reference", str(ref), "--match-amount", "100", "--formats", "wav48-24",
            "--out", str(out), "--force"]
    if smoothing is not None:
        cmd += ["--match-smoothing", str(smoothing)]
    subprocess.run(["nice", "-n", "19"] + cmd, check=True, capture_output=True)
    master = next(p for p in out.iterdir() if p.suffix == ".wav")
    report = json.loads((out / "report.json").read_text())
    return master, report.get("reference") or {}


def matchering(mix, ref, out):
    try:
        import matchering as mg
    except ImportError:
        return None
    target = out / "matchering.wav"
    mg.process(target=str(mix), reference=str(ref), results=[mg.pcm24(str(target))])
    return target


def main():
    args = sys.argv[1:]
    outdir = Path(next((a for a in args if not a.startswith("--")), "/tmp/lathe-reference-match"))
    smoothing = None
    if "--smoothing" in args:
        smoothing = float(args[args.index("--smoothing") + 1])
        outdir = Path(next((a for a in args[:args.index("--smoothing")] if not a.startswith("--")),
                           str(outdir)))
    use_mg = "--no-matchering" not in args
    rows, falls, mg_falls = [], [], []
    for mix in MIXES:
        for ref in MIXES:
            if mix == ref:
                continue
            out = outdir / f"{mix.stem}__{ref.stem}"
            out.mkdir(parents=True, exist_ok=True)
            before = distance(mix, ref)
            master, rec = render(mix, ref, out, smoothing)
            after = distance(master, ref)
            fall = 100 * (before - after) / before
            falls.append(fall)
            mg_fall = None
            if use_mg:
                m = matchering(mix, ref, out)
                if m is not None:
                    mg_fall = 100 * (before - distance(m, ref)) / before
                    mg_falls.append(mg_fall)
            rows.append((mix.stem, ref.stem, before, after, fall, mg_fall,
                         rec.get("max_neighbour_step_db"), rec.get("low_band_correlation_mix"),
                         rec.get("low_band_correlation_master")))
            print(f"{mix.stem} <- {ref.stem}: {before:.2f} -> {after:.2f} dB ({fall:.0f} %)",
                  file=sys.stderr, flush=True)
    fmt = lambda v, f: "-" if v is None else format(v, f)
    print("| mix | reference | before dB | after dB | fall % | Matchering fall % | step dB | corr<150 mix | corr<150 master |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.0f} | {fmt(r[5], '.0f')} | "
              f"{fmt(r[6], '.2f')} | {fmt(r[7], '.3f')} | {fmt(r[8], '.3f')} |")
    mean = sum(falls) / len(falls)
    mg_mean = sum(mg_falls) / len(mg_falls) if mg_falls else None
    print(f"\nMean fall {mean:.1f} % (least {min(falls):.1f} %); Matchering mean "
          f"{fmt(mg_mean, '.1f')} %. Goal: mean >= 50 %, every pair >= 35 %, mean >= Matchering's.")


if __name__ == "__main__":
    main()
