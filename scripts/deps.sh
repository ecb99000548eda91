#!/bin/sh
# Installs what building and testing fanotifyd needs and is missing (Debian/Ubuntu).
# Quiet when everything is there; needs root (apt-get) otherwise.
set -e
need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }
# make fuzz: clang, and libFuzzer's runtime (libclang_rt.fuzzer-x86_64.a), which clang does not
# pull in: on Debian 12 it is in libclang-rt-14-dev, installed through llvm-defaults'
# libclang-rt-dev so that it matches the default clang. libseccomp-dev: src/priv.c.
# t58-unit: systemd (systemd-analyze verify and security) and man-db (verify checks the
# unit's Documentation=man: pages with man(1)); util-linux has setpriv, prlimit, unshare.
# The packaging tests (t59-t62): dpkg-buildpackage (dpkg-dev, build-essential, debhelper,
# fakeroot), lintian, logrotate, bash-completion (the completion's test sources it), man-db
# and groff-base (man --warnings, lexgrog on both man pages). t65-prometheus:
# prometheus-node-exporter (its textfile collector reads prometheus_file). libjansson-dev:
# the --subscribe client's --format text parses records. libyajl-dev and zlib1g-dev:
# --replay parses recorded streams (yajl) and reads them gzipped (zlib). python3-jsonschema: the
# integration tests check every record against schema/record.schema.json (jsonl.py).
# t66-rsyslog: rsyslog (rsyslogd with imfile and mmjsonparse: on Debian 12 both are in the
# rsyslog package, no separate rsyslog-mmjsonparse) and rsyslog-relp (omrelp, imrelp).
# Installing rsyslog enables its service; the test never touches it (private instances).
for pkg in gcc make libc6-dev linux-libc-dev libseccomp-dev libcmocka-dev libjansson-dev libyajl-dev zlib1g-dev python3 \
	python3-jsonschema util-linux procps clang libclang-rt-dev systemd build-essential \
	dpkg-dev debhelper fakeroot lintian logrotate bash-completion man-db groff-base \
	prometheus-node-exporter rsyslog rsyslog-relp; do
	have_pkg "$pkg" || need="$need $pkg"
done
[ -z "$need" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "deps: missing:$need (no apt-get here: install them by hand)" >&2
	exit 1
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing:$need; run as root (sudo make check) to install them" >&2
	exit 1
fi
echo "deps: installing$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
