#!/usr/bin/env python3
"""Compares the latency figures of two `understudy conform --format json` reports.

Usage: compare-latency.py ALONE.json CONCURRENT.json

For each case in both reports: the median TTFB and TTFA over its responses
and its time to first sound (TTFS), alone vs concurrent, and the difference.
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


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    alone, together = figures(sys.argv[1]), figures(sys.argv[2])
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
