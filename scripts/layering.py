#!/usr/bin/env python3
"""The include graph of src/ against STYLE.md's layers: a file may include its own header
and the headers of lower layers, never one of its own layer (other than its header) or of
a higher one. Prints every offending #include and exits 1 if there is any."""
import os
import re
import sys

# Lowest first. A module is a name: X.c and X.h (header-only modules have no X.c).
LAYERS = [
    ["event", "compat", "log", "hash", "fdio", "now", "nss"],
    ["config"],
    ["decode", "policy", "record"],
    ["text"],
    ["fan", "cache", "resolve", "proc", "sink_file", "sink_prom", "sink_sock", "hook", "priv", "subscribe", "replay",
     "notify"],
    ["pipeline"],
    ["daemon"],
    ["loop", "reload"],
    ["main"],
]
LEVEL = {m: i for i, layer in enumerate(LAYERS) for m in layer}

src = sys.argv[1] if len(sys.argv) > 1 else "src"
bad = 0
for name in sorted(os.listdir(src)):
    mod, ext = os.path.splitext(name)
    if ext not in (".c", ".h"):
        continue
    if mod not in LEVEL:
        print("layering: %s/%s is in no layer (scripts/layering.py)" % (src, name))
        bad += 1
        continue
    with open(os.path.join(src, name), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            m = re.match(r'\s*#\s*include\s+"([a-z_]+)\.h"', line)
            if not m:
                continue
            inc = m.group(1)
            if inc == mod:
                continue
            if inc not in LEVEL:
                print("layering: %s/%s:%d includes %s.h, in no layer" % (src, name, n, inc))
                bad += 1
            elif LEVEL[inc] >= LEVEL[mod]:
                print("layering: %s/%s:%d includes %s.h (layer %d), not below its own (%d)"
                      % (src, name, n, inc, LEVEL[inc], LEVEL[mod]))
                bad += 1
sys.exit(1 if bad else 0)
