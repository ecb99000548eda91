# Hostile file names: control bytes, quotes, backslashes, invalid UTF-8, long names and a
# ~4000-byte deep path. The output stays I-JSON (strict UTF-8, no lone surrogate: what
# serde_json, Vector's parser, takes) and every path / name / old_path gives back exactly the
# original bytes, from its _raw array where the name is not UTF-8, in FID and in FD mode.
. "$(dirname "$0")/lib.sh"
require_fanotify fid
setup
# one interpreter lookup: a version-manager shim can cost a second per python3 call
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
JSONL="$PY $HERE/jsonl.py"

# The names are built and checked in Python, which handles bytes exactly (no NUL or '/'
# can appear in a name; everything else can).
HPY=$S/hostile.py
cat >"$HPY" <<'PY'
import json, os, sys

W = os.fsencode(sys.argv[2])

def cases():
    c = {}
    c["newline"] = [b"nl\nname", b"\n", b"trailing-nl\n"]
    c["double quote"] = [b'q"uote', b'"', b'""\\"']
    c["backslash"] = [b"back\\slash", b"\\", b"\\u0041", b"\\udcff", b"\\\\n"]
    c["tab"] = [b"t\tab", b"\t"]
    c["control bytes 0x01-0x1f,0x7f"] = [b"c" + bytes([i]) + b"x" for i in
                                          list(range(1, 0x20)) + [0x7f]] + \
        [bytes(range(1, 0x20)) + b"\x7f"]
    c["invalid UTF-8"] = [b"ff\xff", b"c3\xc3\x28", b"surrogate\xed\xa0\x80",
                          b"above-max\xf4\x90\x80\x80", b"lone\x80", b"\x80",
                          b"\xff\xfe", b"trunc\xe6\x97", b"overlong\xc0\xaf",
                          b"\xf8\x88\x80\x80\x80", b"mix\xc3\xa9\xff\xe6\x97\xa5"]
    c["valid multibyte UTF-8"] = ["é".encode(), "日本".encode(), "caf\u00e9-\U0001F600".encode(),
                                  "\u2028sep\u2029".encode(), "\ufeffbom".encode(),
                                  "\u00a0nbsp".encode(), "\U0010FFFF".encode()]
    c["255-byte names"] = [b"n" * 255, "é".encode() * 127 + b"x", b"\xff" * 255,
                           b"\x01" * 255, b"\\" * 255]
    c["shell metacharacters"] = [b"$(touch PWNED);x", b"`touch PWNED2`", b"a;b|c&d>e<f",
                                 b"'single'", b"-rf", b"*", b"%s%n%x", b" lead space "]
    return c

def deep(top, unit, total):
    # nested directories under W/top until the path is ~total bytes long
    parts, length = [top], len(W) + 1 + len(top)
    i = 0
    while length + 1 + len(unit) + 8 < total:
        d = unit[:-3] + b"%03d" % i
        parts.append(d); length += 1 + len(d); i += 1
    leaf = b"leaf" + b"\xff" * (total - length - 1 - 4 - 1) if b"\xff" in unit else \
        b"leaf" + b"L" * (total - length - 1 - 4 - 1)
    return parts, leaf

DEEP = {"deep path ~4000 bytes (ASCII)": (b"deepA", b"d" * 200, 4000),
        "deep path ~4000 bytes (invalid UTF-8)": (b"deepB", b"\xff\n\"\\" * 50, 4000)}

def create():
    man = {}
    for cat, names in cases().items():
        man[cat] = []
        for n in names:
            p = W + b"/" + n
            with open(p, "wb") as f:
                f.write(b"x")
            man[cat].append(p)
    for cat, (top, unit, total) in DEEP.items():
        parts, leaf = deep(top, unit, total)
        d = W
        for part in parts:
            d = d + b"/" + part
            os.mkdir(d)
        p = d + b"/" + leaf
        assert len(p) < 4096 and len(leaf) <= 255, len(p)
        with open(p, "wb") as f:
            f.write(b"x")
        man[cat] = [p]
    with open(sys.argv[3], "w") as f:
        json.dump({k: [os.fsdecode(p) for p in v] for k, v in man.items()}, f)

def raw(r, k):
    # A field that was not valid UTF-8 has U+FFFD in the string and its bytes in k_raw.
    if isinstance(r.get(k + "_raw"), list):
        return bytes(r[k + "_raw"])
    v = r.get(k)
    return v.encode("utf-8") if isinstance(v, str) else v

def ijson(out):
    # RFC 7493: strict UTF-8, and no string (key or value) with a surrogate code point,
    # which json.loads lets through from a \udXXX escape but UTF-8 cannot encode.
    bad = 0
    with open(out, "rb") as f:
        lines = [l for l in f.read().split(b"\n") if l]
    for n, l in enumerate(lines, 1):
        try:
            r = json.loads(l.decode("utf-8", "strict"))
            for k, v in r.items():
                k.encode("utf-8")
                if isinstance(v, str):
                    v.encode("utf-8")
                if k.endswith("_raw"):
                    assert all(isinstance(x, int) and 0 <= x <= 255 for x in v), k
                    assert isinstance(r.get(k[:-4]), str), k
        except (ValueError, UnicodeError, AssertionError) as e:
            bad += 1
            print("#   line %d is not I-JSON: %s" % (n, e))
    return bad == 0 and len(lines) > 0

def records(out):
    with open(out, "rb") as f:
        return [json.loads(l.decode("utf-8", "strict")) for l in f.read().split(b"\n") if l]

def check(out, man_file, cat, want):
    man = json.load(open(man_file))
    recs = records(out)
    seen = {}
    for r in recs:
        if r.get("type") == "event" and isinstance(r.get("path"), str):
            seen.setdefault(raw(r, "path"), []).append(r)
    bad = 0
    for p in man[cat]:
        p = os.fsencode(p)
        rs = seen.get(p, [])
        base = p.rsplit(b"/", 1)[1]
        if want == "create":
            ok = any("CREATE" in r["events"].split(",") and raw(r, "name") == base
                     and r.get("is_dir") is False for r in rs)
        else:
            ok = any("CLOSE_WRITE" in r["events"].split(",") for r in rs)
        if not ok:
            bad += 1
            print("#   no exact %s record for %r (%d records with that path)" %
                  (want, p[-80:], len(rs)))
    return bad == 0

def known(out, man_file, extra):
    # every event path under W is a path we made (or a sentinel): nothing mangled
    man = json.load(open(man_file))
    ok = set()
    for v in man.values():
        for p in v:
            p = os.fsencode(p)
            while p.startswith(W):
                ok.add(p)
                p = p.rsplit(b"/", 1)[0]
    for e in extra:
        ok.add(os.fsencode(e))
    bad = 0
    for r in records(out):
        if r.get("type") != "event":
            continue
        for k in ("path", "old_path"):
            if r.get(k) is None:
                continue
            b = raw(r, k)
            if b.startswith(W) and b not in ok and b"/.sentinel-" not in b:
                bad += 1
                if bad <= 5:
                    print("#   unexpected %s %r" % (k, b[-120:]))
    return bad == 0

cmd = sys.argv[1]
if cmd == "create":
    create()
elif cmd == "ijson":
    sys.exit(0 if ijson(sys.argv[3]) else 1)
elif cmd == "check":
    sys.exit(0 if check(sys.argv[4], sys.argv[3], sys.argv[5], sys.argv[6]) else 1)
elif cmd == "known":
    sys.exit(0 if known(sys.argv[4], sys.argv[3], sys.argv[5:]) else 1)
elif cmd == "cats":
    for k in json.load(open(sys.argv[3])):
        print(k)
elif cmd == "rename":
    # rename between two hostile names; print nothing
    os.rename(W + b"/" + os.fsencode(sys.argv[3]), W + b"/" + os.fsencode(sys.argv[4]))
PY
MAN=$S/manifest.json

# --- FID mode, filesystem mark: CREATE records carry the exact path and name. -------------
start_daemon --filesystem "$W" || finish
(cd "$S" && "$PY" "$HPY" create "$W" "$MAN") || { fail "creating the hostile names"; finish; }
# rename between two hostile names (old: newline, quote, invalid UTF-8; new: backslash,
# tab, \xc3\x28)
OLDN=$(printf 'ren\n"old\xff') NEWN=$(printf 'ren\\new\t\xc3\x28\x01')
printf x >"$W/$OLDN"
mv "$W/$OLDN" "$W/$NEWN"
sentinel || finish

check "FID: output is valid JSONL (strict UTF-8, one object per line)" $JSONL valid "$OUT"
check "FID: output is I-JSON (no lone surrogate anywhere)" "$PY" "$HPY" ijson "$W" "$OUT"
check "FID: no surrogate escape in the bytes written" \
	"$PY" -c 'import re,sys; sys.exit(1 if re.search(rb"(?<!\\)(\\\\)*\\u[dD][89a-fA-F]", open(sys.argv[1],"rb").read()) else 0)' "$OUT"
while IFS= read -r cat; do
	check "FID: $cat: CREATE record decodes to the exact path and name bytes" \
		"$PY" "$HPY" check "$W" "$MAN" "$OUT" "$cat" create
done < <("$PY" "$HPY" cats "$W" "$MAN")
check "FID: every path/old_path is one that exists (nothing mangled or truncated)" \
	"$PY" "$HPY" known "$W" "$MAN" "$OUT" "$W/$OLDN" "$W/$NEWN"
check "FID: rename between hostile names keeps old_path and path exact" \
	has type=event events~RENAME path="$W/$NEWN" old_path="$W/$OLDN" name="$NEWN"
check "no shell ran the names" test ! -e "$S/PWNED" -a ! -e "$S/PWNED2" -a ! -e "$W/PWNED"
stop_daemon
check "FID: daemon exits 0" [ "$DSTATUS" = 0 ]

# --- FD mode (--no-fid): paths come from the event fd; write every file again. ------------
mv "$OUT" "$S/out-fid.jsonl"
start_daemon --no-fid --filesystem "$W" || finish
"$PY" - "$MAN" <<'PY' || fail "rewriting the hostile names"
import json, os, sys
for v in json.load(open(sys.argv[1])).values():
    for p in v:
        with open(os.fsencode(p), "ab") as f:
            f.write(b"y")
PY
printf y >>"$W/$NEWN"
sentinel || finish
check "FD: output is valid JSONL (strict UTF-8, one object per line)" $JSONL valid "$OUT"
check "FD: output is I-JSON (no lone surrogate anywhere)" "$PY" "$HPY" ijson "$W" "$OUT"
while IFS= read -r cat; do
	check "FD: $cat: CLOSE_WRITE record decodes to the exact path bytes" \
		"$PY" "$HPY" check "$W" "$MAN" "$OUT" "$cat" close_write
done < <("$PY" "$HPY" cats "$W" "$MAN")
check "FD: every path is one that exists (nothing mangled or truncated)" \
	"$PY" "$HPY" known "$W" "$MAN" "$OUT" "$W/$NEWN"
check "FD: renamed hostile name written" has type=event events~CLOSE_WRITE path="$W/$NEWN"
finish
