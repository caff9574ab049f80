# SPDX-License-Identifier: GPL-2.0-only
"""Checks `rt-bpf async --ps` against the interpreter's own `python -m
asyncio ps` and `pstree` on workloads/py_async_tree.py.

usage: asyncio_ps_check.py LABEL MINE.json MINE.txt PS.txt PSTREE.txt
"""
import json
import sys

# the ground truth's tree: task -> the task awaiting it
EXPECTED = {"Task-1": None, "fanout": "Task-1", "sleeper": "Task-1", "idle-0": "Task-1",
            "idle-1": "Task-1", "mid-0": "fanout", "mid-1": "fanout", "mid-2": "fanout",
            "leaf-0": "mid-0", "leaf-1": "mid-1", "leaf-2": "mid-2"}
# the table's columns (asyncio/tools.py pads each to a width)
COLUMNS = [(0, 10), (11, 31), (32, 52), (53, 103), (104, 154), (155, 170), (171, 186)]


def table_rows(mine):
    """The rows `asyncio ps` prints, from rt-bpf's JSON."""
    by_id = {t["id"]: t for t in mine["tasks"]}
    rows = set()
    for t in mine["tasks"]:
        chain = " -> ".join(f["function"] for f in t["coroutine"])
        head = (str(t["thread"]), hex(t["id"]), t["name"], chain)
        if not t["awaited_by"]:
            rows.add(head + ("", "", "0x0"))
        for a in t["awaited_by"]:
            parent = by_id.get(a)
            rows.add(head + (" -> ".join(f["function"] for f in parent["coroutine"]) if parent else "",
                             parent["name"] if parent else "Unknown", hex(a)))
    return rows


def ps_rows(text):
    rows = set()
    for line in text.splitlines():
        if not line[:1].isdigit():
            continue  # the header, the rule
        rows.add(tuple(line[a:b].strip() for a, b in COLUMNS))
    return rows


def tree_paths(lines):
    """Each node of a drawn tree as the labels from its root down."""
    paths, stack = set(), []
    for line in lines:
        for mark in ("└── ", "├── "):
            at = line.find(mark)
            if at >= 0:
                break
        if at < 0:
            continue
        depth = at // 4
        stack[depth:] = [line[at + len(mark):].strip()]
        paths.add(tuple(stack))
    return paths


def main():
    label, mine_json, mine_txt, ps_txt, pstree_txt = sys.argv[1:6]
    with open(mine_json) as f:
        mine = json.load(f)
    with open(mine_txt) as f:
        mine_lines = f.read().splitlines()
    with open(ps_txt) as f:
        ps = f.read()
    with open(pstree_txt) as f:
        pstree = f.read().splitlines()
    ok = True

    names = {t["name"]: t for t in mine["tasks"]}
    by_id = {t["id"]: t for t in mine["tasks"]}
    if set(names) != set(EXPECTED) or len(names) != len(mine["tasks"]):
        print(f"{label}: tasks {sorted(names)}, expected {sorted(EXPECTED)}")
        ok = False
    for name, parent in EXPECTED.items():
        t = names.get(name)
        got = [by_id[a]["name"] for a in t["awaited_by"] if a in by_id] if t else None
        if t and got != ([parent] if parent else []):
            print(f"{label}: {name} awaited by {got}, expected {parent}")
            ok = False
    for name in ("leaf-0", "idle-1"):
        chain = [f["function"] for f in names.get(name, {}).get("coroutine", [])]
        if chain != ["Event.wait", "leaf"] or not all(f["line"] > 0 for f in names[name]["coroutine"]):
            print(f"{label}: {name}'s coroutine chain is {chain}, expected Event.wait -> leaf with lines")
            ok = False

    mine_rows, their_rows = table_rows(mine), ps_rows(ps)
    if mine_rows != their_rows or len(their_rows) != len(EXPECTED):
        print(f"{label}: table rows only rt-bpf has: {sorted(mine_rows - their_rows)}")
        print(f"{label}: table rows only asyncio ps has: {sorted(their_rows - mine_rows)}")
        ok = False
    mine_tree, their_tree = tree_paths(mine_lines), tree_paths(pstree)
    if mine_tree != their_tree or len(their_tree) < len(EXPECTED):
        print(f"{label}: tree paths only rt-bpf has: {sorted(mine_tree - their_tree)}")
        print(f"{label}: tree paths only asyncio pstree has: {sorted(their_tree - mine_tree)}")
        ok = False
    print(f"{label}: {len(mine['tasks'])} tasks, {len(their_rows)} table rows, "
          f"{len(their_tree)} tree nodes: {'the same' if ok else 'DIFFERENT'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
