# The option lists agree, each read from the real file: --help (the binary), fanotifyd(8)'s
# OPTIONS, the README's Options table, the long and short options of config.c's key table;
# and the config keys: fanotifyd.conf(5)'s KEYS and JOBS, config.c's table, and the keys
# --check-config prints for a config that sets every kind of key. Each key of fanotifyd.conf(5)
# names its option, the option's name with underscores. Then the same check on copies
# where one of the six gains an option or key the others lack: each must fail, naming it.
# Both man pages pass groff -wall, man --warnings and lexgrog without a warning.
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
setup
PY=$(python3 -c 'import sys; print(sys.executable)') || PY=python3
MAN8=$ROOT/man/fanotifyd.8
MAN5=$ROOT/man/fanotifyd.conf.5
CONFIG_C=$ROOT/src/config.c
README=$ROOT/README.md

"$FANOTIFYD" --help >"$S/help" 2>&1
check "--help exits 0" [ $? = 0 ]
# Every kind of key, so that --check-config prints every key it knows.
mkdir -p "$S/j"
cat >"$S/full.conf" <<EOF
watch $S/j
mount $S/j
filesystem $S/j
canary $S/j/c
job J
rootfs $S/j
workspace $S/j
export $S/j
cache $S/j
cgroup /fanotifyd-t62.slice/j.scope
foreground yes
EOF
"$FANOTIFYD" --check-config -c "$S/full.conf" >"$S/dump" 2>&1
check "--check-config on a config with every kind of key exits 0" [ $? = 0 ] ||
	sed 's/^/# /' "$S/dump"

cat >"$S/agree.py" <<'PY'
import re, sys
help_f, man8_f, man5_f, config_f, readme_f, dump_f = sys.argv[1:7]
rd = lambda f: open(f, encoding="utf-8").read()
errors = []

def opts_help(t):
    longs, shorts = set(), {}
    for m in re.finditer(r"^ +(?:-([a-zA-Z]), +)?--([a-z][a-z-]*)", t, re.M):
        longs.add(m.group(2))
        if m.group(1):
            shorts[m.group(1)] = m.group(2)
    return longs, shorts

def section(t, name):
    m = re.search(r"^\.SH %s\n(.*?)(?=^\.SH |\Z)" % name, t, re.M | re.S)
    return m.group(1) if m else ""

def opts_man8(t):
    longs, shorts = set(), {}
    for line in re.findall(r"^\.TP\n(.*)$", section(t, "OPTIONS"), re.M):
        line = line.replace("\\-", "-")
        m = re.search(r"--([a-z][a-z-]*)", line)
        if not m:
            continue
        longs.add(m.group(1))
        s = re.search(r"(?<![-\w])-([a-zA-Z])\b", line)
        if s:
            shorts[s.group(1)] = m.group(1)
    return longs, shorts

def keys_man5(t):
    keys = {}
    for sec in ("KEYS", "JOBS"):
        for m in re.finditer(r"^\.TP\n\.BI? \"?([a-z_]+)\"?[^\n]*\n(.*?)(?=^\.TP|^\.SS|^\.PP|\Z)",
                             section(t, sec), re.M | re.S):
            keys[m.group(1)] = m.group(2).replace("\\-", "-")
    return keys

def table(t):
    body = re.search(r"static const struct key_def keys\[K_COUNT\] = \{(.*?)\n\};", t, re.S)
    rows = re.findall(r"\[K_[A-Z_]+\]\s*=\s*\{\s*(NULL|\"[a-z_]+\")\s*,\s*(NULL|\"[a-z-]+\")"
                      r"\s*,\s*('.'|0)", body.group(1) if body else "")
    un = lambda s: None if s in ("NULL", "0") else s.strip("\"'")
    return [(un(k), un(o), un(c)) for k, o, c in rows]

def opts_readme(t):
    m = re.search(r"^### Options\n(.*?)(?=^#)", t, re.M | re.S)
    longs, shorts = set(), {}
    for r in re.finditer(r"^\| `(?:-([a-zA-Z]), )?--([a-z][a-z-]*)", m.group(1) if m else "", re.M):
        longs.add(r.group(2))
        if r.group(1):
            shorts[r.group(1)] = r.group(2)
    return longs, shorts

def keys_dump(t):
    keys = set()
    for line in t.splitlines():
        m = re.match(r"^([a-z_]+) ", line) or re.match(r"^# ([a-z_]+) \(", line)
        if m:
            keys.add(m.group(1))
    return keys

rows = table(rd(config_f))
if len(rows) < 10:
    errors.append("config.c: key table not found (%d rows)" % len(rows))
t_longs = {o for k, o, c in rows if o}
t_shorts = {c: o for k, o, c in rows if c}
t_keys = {k for k, o, c in rows if k}
lists = {
    "--help": opts_help(rd(help_f)),
    "fanotifyd(8)": opts_man8(rd(man8_f)),
    "README Options": opts_readme(rd(readme_f)),
    "config.c table": (t_longs, t_shorts),
}
for name, (longs, shorts) in lists.items():
    for other, (ol, osh) in lists.items():
        if other == name:
            continue
        for o in sorted(longs - ol):
            errors.append("option --%s: in %s, not in %s" % (o, name, other))
        for s in sorted(set(shorts.items()) - set(osh.items())):
            errors.append("short option -%s (--%s): in %s, not in %s" % (s + (name, other)))
man5 = keys_man5(rd(man5_f))
keysets = {"fanotifyd.conf(5)": set(man5), "config.c table": t_keys,
           "--check-config": keys_dump(rd(dump_f))}
for name, ks in keysets.items():
    for other, oks in keysets.items():
        if other != name:
            for k in sorted(ks - oks):
                errors.append("key %s: in %s, not in %s" % (k, name, other))
for k, o, c in rows:
    if k and o:
        if k != o.replace("-", "_"):
            errors.append("key %s is not option --%s with underscores" % (k, o))
        if k in man5 and "--" + o not in man5[k]:
            errors.append("fanotifyd.conf(5): key %s does not name --%s" % (k, o))
print("# %d options (%d short), %d keys" % (len(t_longs), len(t_shorts), len(t_keys)))
for e in dict.fromkeys(errors):
    print("# " + e)
sys.exit(1 if errors else 0)
PY

# agree HELP MAN8 MAN5 CONFIG_C README DUMP
agree() { "$PY" "$S/agree.py" "$@"; }
check "--help, fanotifyd(8), README, config.c, fanotifyd.conf(5) and --check-config agree" \
	agree "$S/help" "$MAN8" "$MAN5" "$CONFIG_C" "$README" "$S/dump"

# Each one gains an option (or key) the others lack: the check must fail and name it.
sed '0,/^ *--mount /s//      --bogus-opt N          for the test\n&/' "$S/help" >"$S/help.x"
sed '0,/^\.SH OPTIONS$/s//&\n.TP\n.BI \\-\\-bogus\\-opt " N"\nFor the test./' "$MAN8" >"$S/man8.x"
sed '0,/^\.SS Marks$/s//&\n.TP\n.BI bogus_key " N"\nFor the test (\\-\\-bogus\\-key)./' "$MAN5" >"$S/man5.x"
sed '0,/^\t\[K_OUTPUT\] = /s//\t[K_BOGUS] = { "bogus_key", "bogus-key", 0, KIND_UINT, 0, 0, 0, 0 },\n&/' \
	"$CONFIG_C" >"$S/config.c.x"
sed '0,/^| `--mount PATH`/s//| `--bogus-opt N` | for the test |\n&/' "$README" >"$S/README.x"
{ cat "$S/dump"; echo "bogus_key 1"; } >"$S/dump.x"
# fails_naming WHAT ARGS...: the check fails and its output names WHAT
fails_naming() {
	local what=$1 out rc=0
	shift
	out=$(agree "$@") || rc=$?
	[ "$rc" = 1 ] && printf '%s\n' "$out" | grep -q -- "$what" && return 0
	printf '%s\n' "$out"
	return 1
}
check "an option only in --help fails the check" fails_naming "bogus-opt: in --help" \
	"$S/help.x" "$MAN8" "$MAN5" "$CONFIG_C" "$README" "$S/dump"
check "an option only in fanotifyd(8) fails it" fails_naming "bogus-opt: in fanotifyd(8)" \
	"$S/help" "$S/man8.x" "$MAN5" "$CONFIG_C" "$README" "$S/dump"
check "a key only in fanotifyd.conf(5) fails it" fails_naming "bogus_key: in fanotifyd.conf(5)" \
	"$S/help" "$MAN8" "$S/man5.x" "$CONFIG_C" "$README" "$S/dump"
check "a key and option only in config.c's table fail it" fails_naming "bogus_key: in config.c" \
	"$S/help" "$MAN8" "$MAN5" "$S/config.c.x" "$README" "$S/dump"
check "an option only in the README fails it" fails_naming "bogus-opt: in README" \
	"$S/help" "$MAN8" "$MAN5" "$CONFIG_C" "$S/README.x" "$S/dump"
check "a key only in --check-config's output fails it" fails_naming "bogus_key: in --check-config" \
	"$S/help" "$MAN8" "$MAN5" "$CONFIG_C" "$README" "$S/dump.x"

# The man pages: no warning from groff, man or lexgrog.
quiet() { "$@" >/dev/null; }
for m in "$MAN8" "$MAN5"; do
	n=$(basename "$m")
	out=$(groff -wall -z -man "$m" 2>&1)
	check "$n: groff -wall -z -man: no warning" [ -z "$out" ] || printf '# %s\n' "$out"
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 "$m" 2>&1 >/dev/null)
	check "$n: man --warnings -l: no warning" [ -z "$out" ] || printf '# %s\n' "$out"
	check "$n: lexgrog finds its NAME line" quiet lexgrog "$m"
done
finish
