#!/usr/bin/env python3
"""Reads fanotifyd JSON Lines for the integration tests.

jsonl.py valid FILE                 every line is one JSON object, newline-terminated
                                    and a valid record (see below)
jsonl.py check FILE                 check the whole lines of FILE (see below); exit 0
jsonl.py foreign FILE               FILE's lines now are the test's own, not records: they
                                    are not checked
jsonl.py wait FILE [FILTER...]      wait (--timeout S, default 10) for a matching record
                                    (--count N: for N of them)
jsonl.py count FILE [FILTER...]     print how many records match
jsonl.py find FILE [FILTER...]      print matching records (exit 1 if none)
jsonl.py get FILE FIELD [FILTER...] print FIELD of the first match (exit 1 if none)
jsonl.py sameprefix PATH OUT FILE...
                                    OUT up to and including the first record of PATH (a
                                    sentinel), after its start record (which no subscriber
                                    gets), against each FILE's same bytes, each waited
                                    for (--timeout); prints "# sameprefix: equal=N bytes=B":
                                    how many FILEs match and the length of OUT's prefix;
                                    exit 0 iff all do

FILTER: key=value (value "null" matches JSON null; true/false/numbers compare as text),
key!=value, key~regex (search), key? (present), !key (absent), key^=prefix.
String values are compared as bytes: a field with a sibling key_raw (the exact bytes of a
name that is not valid UTF-8) is compared by those bytes, so a hostile file name given on
the command line matches exactly.

Every line any command reads is checked once (a digest of each line checked is kept in
$JSONL_CHECKED, which lib.sh points into the test's directory): strict UTF-8, one JSON
object, no lone surrogate in any string (I-JSON, RFC 7493), every _raw array the bytes its
field stands for, and valid against schema/record.schema.json. A line that fails is told on
stderr and appended to $JSONL_VIOLATIONS; lib.sh's finish fails the test for it (an exit
status of its own would read as "no match" to a negated check).
"""
import hashlib
import json
import os
import re
import sys
import time

# lib.sh names the schema; a copy of this file exec'd elsewhere (t13) has no __file__.
SCHEMA = os.environ.get("JSONL_SCHEMA") or os.path.join(
    os.path.dirname(os.path.abspath(globals().get("__file__", sys.argv[0]))), "..", "..",
    "schema", "record.schema.json")
_validator = None
_checked = None
_shapes = None
_new_shapes = []


def validator():
    # Imported and compiled only when a line is new: most calls find every line checked.
    global _validator
    if _validator is None:
        import jsonschema
        with open(SCHEMA) as fh:
            schema = json.load(fh)
        cls = jsonschema.Draft202012Validator
        cls.check_schema(schema)
        _validator = cls(schema)
    return _validator


# What the schema's verdict on a record depends on, and nothing else: its keys in order, the
# JSON type of each value, the values of the keys with an enum, whether the patterned
# strings match, the sign of each number (every minimum is 0 or 1), and arrays other than
# _raw whole (the _raw bytes are checked by raw_problems()). Records of one shape get one
# verdict, so jsonschema (some 400 us a record) runs once per shape, not per record, and is
# not even imported (0.1-0.2 s) by a call that meets only shapes checked before (the shapes
# checked are kept beside the lines checked, in $JSONL_CHECKED.shapes).
ENUMS = ("type", "decision", "kind", "mode", "status", "schema_version", "recorded", "hook")
PATTERNS = {"run_id": re.compile(r"[0-9a-f]{32}"), "config_digest": re.compile(r"[0-9a-f]{16}")}


def shape(rec):
    out = []
    for k, v in rec.items():
        if k in ENUMS:
            c = json.dumps(v)
        elif isinstance(v, bool) or v is None:
            c = repr(v)
        elif isinstance(v, int):
            c = "n<0" if v < 0 else "n=0" if v == 0 else "n>0"
        elif isinstance(v, str):
            c = "s" if k not in PATTERNS else "s%d" % bool(PATTERNS[k].fullmatch(v))
        elif isinstance(v, list) and k.endswith("_raw"):
            c = "raw" if all(type(x) is int and 0 <= x <= 255 for x in v) else json.dumps(v)
        else:
            c = json.dumps(v)
        out.append((k, c))
    return tuple(out)


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for k, x in v.items():
            yield k
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


def unraw(v):
    """What a _raw field's bytes are written as: U+FFFD for each byte outside well-formed
    UTF-8 (Python's strict decoder follows Unicode table 3-7, as record.c does)."""
    out, i = [], 0
    while i < len(v):
        for n in (4, 3, 2, 1):
            try:
                out.append(v[i:i + n].decode("utf-8"))
                i += n
                break
            except UnicodeDecodeError:
                pass
        else:
            out.append("\ufffd")
            i += 1
    return "".join(out)


def raw_problems(rec):
    for k, v in rec.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for x in v:
                yield from raw_problems(x)
        if not k.endswith("_raw"):
            continue
        f = k[:-4]
        if f not in rec:
            yield "%s without %s" % (k, f)
            continue
        try:
            b = bytes(v)
        except (TypeError, ValueError):
            yield "%s is not an array of bytes" % k
            continue
        try:
            b.decode("utf-8")
            yield "%s: bytes are valid UTF-8, no _raw is written for them" % k
        except UnicodeDecodeError:
            pass
        if rec[f] != unraw(b):
            yield "%s is %r, not its _raw bytes with U+FFFD for each bad one" % (f, rec[f])


def problem(line):
    """Why line is not a valid record, or None."""
    try:
        rec = json.loads(line.decode("utf-8", "strict"))
    except (ValueError, UnicodeDecodeError) as e:
        return "not strict UTF-8 JSON: %s" % e
    if not isinstance(rec, dict):
        return "not an object"
    for x in strings(rec):
        try:
            x.encode("utf-8")
        except UnicodeEncodeError:
            return "lone surrogate in %r (not I-JSON)" % x
    for p in raw_problems(rec):
        return p
    sh = hashlib.blake2b(repr(shape(rec)).encode(), digest_size=12).hexdigest()
    if sh in shapes():
        return None
    errs = sorted(validator().iter_errors(rec), key=lambda e: list(e.path))
    if errs:
        e = errs[0]
        return "schema: %s at %s" % (e.message[:300], "/".join(map(str, e.path)))
    _shapes.add(sh)
    _new_shapes.append(sh)
    return None


def shapes():
    global _shapes
    if _shapes is None:
        _shapes = set()
        cache = os.environ.get("JSONL_CHECKED")
        if cache:
            try:
                with open(cache + ".shapes") as fh:
                    _shapes.update(fh.read().split())
            except FileNotFoundError:
                pass
    return _shapes


def check(path, lines):
    """Checks each line not checked before (in any process of this test)."""
    global _checked
    cache = os.environ.get("JSONL_CHECKED")
    if _checked is None:
        _checked = set()
        if cache:
            try:
                with open(cache) as fh:
                    _checked.update(fh.read().split())
            except FileNotFoundError:
                pass
    new, bad = [], []
    for n, line in enumerate(lines, 1):
        d = hashlib.blake2b(line, digest_size=12).hexdigest()
        if d in _checked:
            continue
        _checked.add(d)
        why = problem(line)
        if why:
            bad.append("%s line %d: %s: %r" % (path, n, why, line[:300]))
        # A bad line is told once (below), then counts as checked like a good one.
        new.append(d)
    if cache and _new_shapes:
        with open(cache + ".shapes", "a") as fh:
            fh.write("".join(x + "\n" for x in _new_shapes))
        del _new_shapes[:]
    if cache and new:
        with open(cache, "a") as fh:
            fh.write("".join(x + "\n" for x in new))
    for b in bad[:5]:
        print("# invalid record: " + b, file=sys.stderr)
    if len(bad) > 5:
        print("# ... %d invalid records in all" % len(bad), file=sys.stderr)
    v = os.environ.get("JSONL_VIOLATIONS")
    if v and bad:
        with open(v, "a") as fh:
            fh.write("".join(b + "\n" for b in bad))
    return not bad


def raw(rec, k):
    v = rec[k]
    if isinstance(rec.get(k + "_raw"), list):
        return bytes(rec[k + "_raw"])
    if isinstance(v, str):
        # surrogatepass: a record with a lone surrogate still matches (it is reported as
        # invalid by check(), not as "no such record")
        return v.encode("utf-8", "surrogatepass")
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
            if k.decode() in rec and raw(rec, k.decode()) == v:
                return False
        elif b"^=" in fb:
            k, v = fb.split(b"^=", 1)
            if k.decode() not in rec or not raw(rec, k.decode()).startswith(v):
                return False
        elif b"~" in fb and (b"=" not in fb or fb.index(b"~") < fb.index(b"=")):
            k, v = fb.split(b"~", 1)
            if k.decode() not in rec or not re.search(v, raw(rec, k.decode())):
                return False
        else:
            k, v = fb.split(b"=", 1)
            if k.decode() not in rec or raw(rec, k.decode()) != v:
                return False
    return True


def records(path):
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return []
    out = []
    lines = [line for line in data.split(b"\n") if line]
    # A line still being written (no newline yet) is checked once it is whole.
    check(path, lines if data.endswith(b"\n") else lines[:-1])
    for line in lines:
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
            why = problem(line)
            if why:
                print(f"line {n}: {why}: {line[:200]!r}")
                return 1
        check(path, data.split(b"\n")[:-1])
        return 0
    if cmd == "check":
        records(path)
        return 0
    if cmd == "foreign":
        # Lines the test itself put in FILE, not records: taken as checked.
        cache = os.environ.get("JSONL_CHECKED")
        with open(path, "rb") as fh:
            lines = [l for l in fh.read().split(b"\n") if l]
        if cache:
            with open(cache, "a") as fh:
                fh.write("".join(hashlib.blake2b(l, digest_size=12).hexdigest() + "\n"
                                 for l in lines))
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
                v = raw(r, field) if field in r else b"null"
                sys.stdout.buffer.write(v + b"\n")
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
        # The start record is written before any subscriber can connect: streams begin after.
        if ref is not None and ref.startswith(b'{"schema_version":1,"type":"start"'):
            ref = ref[ref.index(b"\n") + 1:]
        equal = sum(1 for f in rest[1:] if ref is not None and cut(f) == ref)
        print("# sameprefix: equal=%d bytes=%d" % (equal, len(ref) if ref is not None else 0))
        return 0 if ref is not None and equal == len(rest) - 1 else 1
    print("unknown command", cmd, file=sys.stderr)
    return 2


sys.exit(main())
