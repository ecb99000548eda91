#!/usr/bin/env python3
"""Reads fanotifyd JSON Lines for the integration tests.

jsonl.py valid FILE                 every line is one JSON object, newline-terminated
jsonl.py wait FILE [FILTER...]      wait (--timeout S, default 10) for a matching record
                                    (--count N: for N of them)
jsonl.py count FILE [FILTER...]     print how many records match
jsonl.py find FILE [FILTER...]      print matching records (exit 1 if none)
jsonl.py get FILE FIELD [FILTER...] print FIELD of the first match (exit 1 if none)
jsonl.py sameprefix PATH OUT FILE...
                                    OUT up to and including the first record of PATH (a
                                    sentinel) against each FILE's same bytes, each waited
                                    for (--timeout); prints "# sameprefix: equal=N bytes=B":
                                    how many FILEs match and the length of OUT's prefix;
                                    exit 0 iff all do

FILTER: key=value (value "null" matches JSON null; true/false/numbers compare as text),
key!=value, key~regex (search), key? (present), !key (absent), key^=prefix.
String values are compared as bytes: the record's surrogate escapes are turned back into
the original bytes, so a hostile file name given on the command line matches exactly.
"""
import json
import os
import re
import sys
import time


def raw(v):
    if isinstance(v, str):
        return v.encode("utf-8", "surrogateescape")
    if v is None:
        return b"null"
    if isinstance(v, bool):
        return b"true" if v else b"false"
    return str(v).encode()


def match(rec, filters):
    for f in filters:
        fb = os.fsencode(f)
        if fb.endswith(b"?") and b"=" not in fb:
            if f[:-1] not in rec:
                return False
        elif fb.startswith(b"!") and b"=" not in fb:
            if f[1:] in rec:
                return False
        elif b"!=" in fb:
            k, v = fb.split(b"!=", 1)
            if k.decode() in rec and raw(rec[k.decode()]) == v:
                return False
        elif b"^=" in fb:
            k, v = fb.split(b"^=", 1)
            if k.decode() not in rec or not raw(rec[k.decode()]).startswith(v):
                return False
        elif b"~" in fb and (b"=" not in fb or fb.index(b"~") < fb.index(b"=")):
            k, v = fb.split(b"~", 1)
            if k.decode() not in rec or not re.search(v, raw(rec[k.decode()])):
                return False
        else:
            k, v = fb.split(b"=", 1)
            if k.decode() not in rec or raw(rec[k.decode()]) != v:
                return False
    return True


def records(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return []
    out = []
    for line in data.split(b"\n"):
        if not line:
            continue
        try:
            out.append(json.loads(line.decode("utf-8")))
        except (ValueError, UnicodeDecodeError):
            out.append({"__invalid__": line})
    return out


def main():
    args = sys.argv[1:]
    timeout = 10.0
    if "--timeout" in args:
        i = args.index("--timeout")
        timeout = float(args[i + 1])
        del args[i:i + 2]
    want = 1
    if "--count" in args:
        i = args.index("--count")
        want = int(args[i + 1])
        del args[i:i + 2]
    cmd, path, rest = args[0], args[1], args[2:]
    if cmd == "valid":
        with open(path, "rb") as fh:
            data = fh.read()
        if data and not data.endswith(b"\n"):
            print("last line not newline-terminated")
            return 1
        for n, line in enumerate(data.split(b"\n")[:-1], 1):
            try:
                rec = json.loads(line.decode("utf-8", "strict"))
            except (ValueError, UnicodeDecodeError) as e:
                print(f"line {n}: {e}: {line[:200]!r}")
                return 1
            if not isinstance(rec, dict):
                print(f"line {n}: not an object")
                return 1
        return 0
    if cmd == "wait":
        deadline = time.monotonic() + timeout
        while True:
            if sum(1 for r in records(path) if match(r, rest)) >= want:
                return 0
            if time.monotonic() > deadline:
                return 1
            time.sleep(0.01)
    if cmd == "count":
        print(sum(1 for r in records(path) if match(r, rest)))
        return 0
    if cmd == "find":
        found = [r for r in records(path) if match(r, rest)]
        for r in found:
            print(json.dumps(r))
        return 0 if found else 1
    if cmd == "get":
        field, filters = rest[0], rest[1:]
        for r in records(path):
            if match(r, filters):
                v = r.get(field)
                sys.stdout.buffer.write(raw(v) + b"\n")
                return 0
        return 1
    if cmd == "sameprefix":
        # Here "path" is the sentinel path; rest[0] is OUT, the others the streams.
        key = ('"path":"%s"' % path).encode()
        deadline = time.monotonic() + timeout

        def cut(f):
            while True:
                d = open(f, "rb").read()
                i = d.find(key)
                if i >= 0 and d.find(b"\n", i) >= 0:
                    return d[: d.index(b"\n", i) + 1]
                if time.monotonic() > deadline:
                    return None
                time.sleep(0.02)

        ref = cut(rest[0])
        equal = sum(1 for f in rest[1:] if ref is not None and cut(f) == ref)
        print("# sameprefix: equal=%d bytes=%d" % (equal, len(ref) if ref is not None else 0))
        return 0 if ref is not None and equal == len(rest) - 1 else 1
    print("unknown command", cmd, file=sys.stderr)
    return 2


sys.exit(main())
