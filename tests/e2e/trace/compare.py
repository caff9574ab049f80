# SPDX-License-Identifier: GPL-2.0-only
"""Checks an `rt-bpf trace` directory strictly against CodeTracer's format
and compares its calls, returns and lines of one source file with an
in-process reference (sys.settrace or Ruby's TracePoint).

  compare.py validate DIR
  compare.py events DIR SOURCE      # prints "call/line/return name first line"
  compare.py values DIR SOURCE      # main()'s calls with arguments, returns with values

The Ruby tests import subtree() and report() (the calls and returns under
one method, and the first difference from TracePoint's).
"""
import json
import os
import sys

EVENT_KINDS = {"Path", "VariableName", "Type", "Value", "Function", "Step", "Call",
               "Return", "Event", "Asm", "BindVariable", "Assignment", "DropVariables",
               "CompoundValue", "CellValue", "AssignCompoundItem", "AssignCell",
               "VariableCell", "DropVariable", "DropLastStep"}
VALUE_FIELDS = {"Int": {"i"}, "Float": {"f"}, "Bool": {"b"}, "String": {"text"},
                "Raw": {"r"}, "Error": {"msg"}, "None": set()}


def fail(msg):
    print("INVALID: " + msg)
    sys.exit(1)


def check_value(v, where, nr_types):
    if not isinstance(v, dict) or v.get("kind") not in VALUE_FIELDS:
        fail("%s: not a known value record: %r" % (where, v))
    want = VALUE_FIELDS[v["kind"]] | {"kind", "type_id"}
    if set(v) != want:
        fail("%s: fields %s, want %s" % (where, sorted(v), sorted(want)))
    if not isinstance(v["type_id"], int) or not 0 <= v["type_id"] < nr_types:
        fail("%s: type_id %r names no earlier Type record" % (where, v["type_id"]))
    kind = v["kind"]
    if kind == "Int" and not isinstance(v["i"], int):
        fail("%s: Int without an integer" % where)
    if kind == "Float" and not isinstance(v["f"], (int, float)):
        fail("%s: Float without a number" % where)
    if kind == "Bool" and not isinstance(v["b"], bool):
        fail("%s: Bool without a boolean" % where)
    if kind in ("String", "Raw") and not isinstance(v["text" if kind == "String" else "r"], str):
        fail("%s: %s without text" % (where, kind))


def load(d):
    """Reads and validates the directory; returns (events, paths, functions)."""
    for name in ("trace.json", "trace_metadata.json", "trace_paths.json"):
        if not os.path.isfile(os.path.join(d, name)):
            fail("no " + name)
    if not os.path.isdir(os.path.join(d, "files")):
        fail("no files/")
    with open(os.path.join(d, "trace.json"), encoding="utf-8") as f:
        events = json.load(f)
    with open(os.path.join(d, "trace_metadata.json"), encoding="utf-8") as f:
        meta = json.load(f)
    with open(os.path.join(d, "trace_paths.json"), encoding="utf-8") as f:
        paths = json.load(f)
    if set(meta) != {"workdir", "program", "args"} or not isinstance(meta["args"], list) \
            or not all(isinstance(a, str) for a in meta["args"]) \
            or not isinstance(meta["workdir"], str) or not isinstance(meta["program"], str):
        fail("trace_metadata.json: %r" % meta)
    if not isinstance(events, list):
        fail("trace.json is not an array")
    # calls open per thread: the records after a thread Event are that
    # thread's (before the first one, the only thread's)
    seen_paths, functions, nr_types, nr_vars, depth, thread = [], [], 0, 0, {}, None
    for i, ev in enumerate(events):
        where = "trace.json[%d]" % i
        if not isinstance(ev, dict) or len(ev) != 1:
            fail("%s: not a single-key object" % where)
        (kind, body), = ev.items()
        if kind not in EVENT_KINDS:
            fail("%s: unknown event %s" % (where, kind))
        if kind == "Path":
            if not isinstance(body, str):
                fail("%s: Path not a string" % where)
            seen_paths.append(body)
        elif kind == "Function":
            if set(body) != {"path_id", "line", "name"} or not isinstance(body["name"], str):
                fail("%s: Function fields %r" % (where, body))
            if not 0 <= body["path_id"] < len(seen_paths):
                fail("%s: path_id %d before its Path" % (where, body["path_id"]))
            functions.append(body)
        elif kind == "Type":
            if not isinstance(body.get("kind"), int) or not isinstance(body.get("lang_type"), str) \
                    or not isinstance(body.get("specific_info"), dict) \
                    or body["specific_info"].get("kind") not in ("None", "Struct", "Pointer"):
                fail("%s: Type %r" % (where, body))
            nr_types += 1
        elif kind == "VariableName":
            if not isinstance(body, str):
                fail("%s: VariableName %r" % (where, body))
            nr_vars += 1
        elif kind == "Step":
            if set(body) != {"path_id", "line"} or not 0 <= body["path_id"] < len(seen_paths):
                fail("%s: Step %r refers to no earlier Path" % (where, body))
        elif kind == "Call":
            if set(body) != {"function_id", "args"} or not 0 <= body["function_id"] < len(functions):
                fail("%s: Call %r refers to no earlier Function" % (where, body))
            for a in body["args"]:
                if set(a) != {"variable_id", "value"} or not 0 <= a["variable_id"] < nr_vars:
                    fail("%s: argument %r refers to no earlier VariableName" % (where, a))
                check_value(a["value"], where, nr_types)
            depth[thread] = depth.get(thread, 0) + 1
        elif kind == "Return":
            if set(body) != {"return_value"}:
                fail("%s: Return %r" % (where, body))
            check_value(body["return_value"], where, nr_types)
            depth[thread] = depth.get(thread, 0) - 1
            if depth[thread] < 0:
                fail("%s: a Return without its Call in thread %s" % (where, thread))
        elif kind == "Event":
            if set(body) != {"kind", "metadata", "content"} or not isinstance(body["kind"], int) \
                    or not isinstance(body["metadata"], str) or not isinstance(body["content"], str):
                fail("%s: Event %r" % (where, body))
            if body["kind"] == 12 and body["metadata"] == "thread":
                thread = body["content"]
    open_calls = {t: n for t, n in depth.items() if n}
    if open_calls:
        fail("calls without a Return: %s" % ", ".join(
            "%d in thread %s" % (n, t) for t, n in sorted(open_calls.items(), key=str)))
    if seen_paths != paths:
        fail("trace_paths.json differs from the Path records")
    return events, paths, functions


def own_events(d, source, lines=True):
    """call/line/return lines of the functions of SOURCE, as the reference
    prints them: "EVENT NAME FIRSTLINE LINE"."""
    events, paths, functions = load(d)
    out, stack = [], []  # stack: (function or None, current line)
    for ev in events:
        (kind, body), = ev.items()
        if kind == "Call":
            fn = functions[body["function_id"]]
            own = paths[fn["path_id"]] == source and fn["name"] != "<module>"
            stack.append([fn if own else None, fn["line"]])
            if own:
                out.append("call %s %d %d" % (fn["name"], fn["line"], fn["line"]))
        elif kind == "Step" and stack:
            stack[-1][1] = body["line"]
            fn = stack[-1][0]
            if fn and lines and paths[body["path_id"]] == source:
                out.append("line %s %d %d" % (fn["name"], fn["line"], body["line"]))
        elif kind == "Return":
            fn, line = stack.pop()
            if fn:
                out.append("return %s %d %d" % (fn["name"], fn["line"], line))
    return out


def show(v):
    """A value record as tests/e2e/trace/values.py prints a value."""
    kind = v["kind"]
    if kind == "Int":
        return "%d" % v["i"]
    if kind == "Float":
        return repr(float(v["f"]))
    if kind == "Bool":
        return "True" if v["b"] else "False"
    if kind == "String":
        return v["text"]
    if kind == "Error":
        return "<exception>"
    if kind == "Raw":  # <module.Type>: the type's own name
        return "<%s>" % v["r"].strip("<>").split(".")[-1]
    return "None"


def own_values(d, source):
    """main()'s subtree of the functions of SOURCE: "call NAME ARG=VALUE..."
    and "return NAME VALUE"."""
    events, paths, functions = load(d)
    names = [body for ev in events for kind, body in ev.items() if kind == "VariableName"]
    out, stack, on = [], [], False
    for ev in events:
        (kind, body), = ev.items()
        if kind == "Call":
            fn = functions[body["function_id"]]
            own = paths[fn["path_id"]] == source and fn["name"] != "<module>"
            stack.append(fn["name"] if own else None)
            on = on or (own and fn["name"] == "main")
            if own and on:
                out.append("call %s %s" % (fn["name"], " ".join(
                    "%s=%s" % (names[a["variable_id"]], show(a["value"])) for a in body["args"])))
        elif kind == "Return":
            name = stack.pop()
            if name and on:
                out.append("return %s %s" % (name, show(body["return_value"])))
            on = on and name != "main"
    return out


def subtree(d, root):
    """The calls and returns ("call NAME", "return NAME") from each call of
    method @root to its return, in trace directory @d, and the names still
    on the stack at the trace's end."""
    ev = json.load(open(os.path.join(d, "trace.json")))
    fns = [e["Function"] for e in ev if "Function" in e]
    got, stack, on = [], [], False
    for e in ev:
        (k, b), = e.items()
        if k == "Call":
            name = fns[b["function_id"]]["name"]
            on = on or name == root
            stack.append(name)
            if on:
                got.append("call " + name)
        elif k == "Return":
            name = stack.pop()
            if on:
                got.append("return " + name)
            if name == root:
                on = False
    return got, stack


def report(want, got):
    """False, with the first difference printed, when the reference's
    events @want and the trace's @got differ."""
    if got == want:
        return True
    for i, (a, b) in enumerate(zip(want, got)):
        if a != b:
            print("first difference at %d: TracePoint %r, rt-bpf %r" % (i, a, b))
            break
    print(len(want), "TracePoint events,", len(got), "from rt-bpf")
    return False


if __name__ == "__main__":
    if sys.argv[1] == "validate":
        ev, _, _ = load(sys.argv[2])
        print("valid: %d records" % len(ev))
    elif sys.argv[1] == "events":
        print("\n".join(own_events(sys.argv[2], sys.argv[3], lines=len(sys.argv) < 5)))
    elif sys.argv[1] == "values":
        print("\n".join(own_values(sys.argv[2], sys.argv[3])))
