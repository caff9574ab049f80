# SPDX-License-Identifier: GPL-2.0-only
"""Checks rtmerge's folded stacks of a matrix guest's split workload
(tests/e2e/workloads/py_split.py or rb_split.rb): branch_a does three times
branch_b's work, so its share of the samples that end in work() must be
about 3/4, with the interpreter frames from the script's root down.

    split_check.py python|ruby FOLDED WORKLOAD MIN_SAMPLES
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e", "workloads"))
import py311_folded  # noqa: E402
import rb_folded  # noqa: E402

# the call lines of each branch, root first, and work()'s loop lines
PATHS = {
    "python": ([("<module>", 32), ("main", 28), ("branch_a", 18)],
               [("<module>", 32), ("main", 29), ("branch_b", 22)], (12, 13)),
    "ruby": ([("<main>", 23), ("branch_a", 14)], [("<main>", 24), ("branch_b", 18)], (6, 7, 8)),
}


def stacks(lang, folded, wl):
    """(function, line) lists of the workload's interpreter frames, root first"""
    if lang == "python":
        for s in py311_folded.load(folded, wl):
            yield s.func_lines(), s.count
    else:
        for _root, fr, n in rb_folded.read(folded):
            yield [(f[0], f[2]) for f in fr if f[1] and f[1].endswith(os.path.basename(wl))], n


def main():
    lang, folded, wl, least = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    path_a, path_b, loop = PATHS[lang]
    a = b = other = 0
    for fl, n in stacks(lang, folded, wl):
        if not fl or fl[-1][0] != "work":
            continue
        head, leaf = fl[:-1], fl[-1]
        if head == path_a and leaf[1] in loop:
            a += n
        elif head == path_b and leaf[1] in loop:
            b += n
        else:
            other += n
    share = a / (a + b) if a + b else 0
    print(f"{lang}: branch_a {a}, branch_b {b}, other {other}; branch_a share {share:.2f} (expected 0.75)")
    ok = a + b >= least and 0.6 <= share <= 0.9 and other <= 0.05 * (a + b)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
