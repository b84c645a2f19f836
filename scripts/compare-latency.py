#!/usr/bin/env python3
"""Compares the latency figures of two `understudy conform --format json` reports.

Usage: compare-latency.py ALONE.json CONCURRENT.json
       compare-latency.py ALONE.json... -- CONCURRENT.json...

For each case in both sides: the median TTFB and TTFA over its responses
and its time to first sound (TTFS), alone vs concurrent, and the difference.
With several reports a side, a case's figure is its median over them (runs
on a shared machine are noisy; two `--jobs 1` runs against each other show
how noisy).
Ends with the largest differences. Used to check that running the cases side
by side (`conform`, default `--jobs`) does not move the figures `--jobs 1`
measures.
"""

import json
import statistics
import sys


def figures(path):
    """Per case id: {figure name: value in ms}."""
    with open(path, encoding="utf-8") as f:
        report = json.load(f)
    out = {}
    for case in report["cases"]:
        values = {}
        for name, key in (("TTFB", "ttfb_ms"), ("TTFA", "ttfa_ms")):
            samples = [l[key] for l in case.get("latency", [])]
            if samples:
                values[name] = statistics.median(samples)
        if case.get("time_to_first_sound_ms") is not None:
            values["TTFS"] = case["time_to_first_sound_ms"]
        out[case["id"]] = values
    return out


def merged(paths):
    """Per case id: {figure name: median of that figure over the reports}."""
    runs = [figures(p) for p in paths]
    out = {}
    for run in runs:
        for case, values in run.items():
            for name, value in values.items():
                out.setdefault(case, {}).setdefault(name, []).append(value)
    return {
        case: {name: statistics.median(v) for name, v in values.items()}
        for case, values in out.items()
    }


def main():
    args = sys.argv[1:]
    if "--" in args:
        split = args.index("--")
        left, right = args[:split], args[split + 1 :]
    elif len(args) == 2:
        left, right = args[:1], args[1:]
    else:
        sys.exit(__doc__)
    if not left or not right:
        sys.exit(__doc__)
    alone, together = merged(left), merged(right)
    rows = []
    for case, values in alone.items():
        for name, a in values.items():
            b = together.get(case, {}).get(name)
            if b is not None:
                rows.append((case, name, a, b, b - a))
    print(f"{'case':<52} {'':4} {'alone':>9} {'concurrent':>11} {'diff':>8}")
    for case, name, a, b, d in rows:
        print(f"{case:<52} {name:4} {a:9.1f} {b:11.1f} {d:+8.1f}")
    for name in ("TTFB", "TTFA", "TTFS"):
        diffs = [r for r in rows if r[1] == name]
        if not diffs:
            continue
        worst = max(diffs, key=lambda r: abs(r[4]))
        med = statistics.median(abs(r[4]) for r in diffs)
        print(
            f"{name}: {len(diffs)} cases, median |diff| {med:.1f} ms, "
            f"largest {worst[4]:+.1f} ms ({worst[0]})"
        )


if __name__ == "__main__":
    main()
