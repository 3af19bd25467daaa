"""Summarise a py-spy raw (collapsed stacks) profile: samples per pipeline stage and the heaviest frames.

    .venv/bin/python bench/pyspy_summary.py PROFILE.txt [N]
"""
from __future__ import annotations

import re
import sys
from collections import Counter

STAGES = ("extract", "map_batches", "find_duplicates", "validate_batches", "publish", "remove")  # flows/steps.py


def main() -> None:
    path, top = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25
    stages: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in open(path, encoding="utf-8"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        n = int(count)
        total += n
        frames = stack.split(";")
        names = [re.sub(r" \(.*?\)$", "", f) for f in frames]
        located = [re.sub(r"^(.*?) \((?:.*/)?([^/]+?):\d+\)$", r"\1 (\2)", f) for f in frames]
        stage = next((s for s in STAGES if s in names), "other")
        stages[stage] += n
        for frame in set(located):
            inclusive[frame] += n
    print(f"{total} samples")
    for stage, n in stages.most_common():
        print(f"  {stage:<20} {n / total:6.1%}")
    print("heaviest frames (inclusive):")
    for frame, n in inclusive.most_common(top):
        print(f"  {n / total:6.1%}  {frame}")


if __name__ == "__main__":
    main()
