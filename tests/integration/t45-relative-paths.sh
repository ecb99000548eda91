# Canary patterns and job roots are compared with absolute paths: a relative one could
# never match. They are refused, by --check-config too, with exit status 2 and a message
# that names the value, instead of a daemon that never alerts or fails only at start.
. "$(dirname "$0")/lib.sh"
setup
cd "$S" || finish
mkdir -p w rel/dir

run --foreground --watch "$W" --canary w/secret --output -
check "--canary w/secret: exit 2 (got $RC)" [ "$RC" = 2 ]
check "--canary w/secret: the message names it" grep -q "'w/secret' is not an absolute path pattern" "$ERR"
run --check-config --watch "$W" --canary 'secret*'
check "--check-config --canary 'secret*': exit 2 (got $RC)" [ "$RC" = 2 ]
printf 'watch %s\nforeground 1\njob j\nrootfs rel/dir\n' "$W" >"$S/rel.conf"
run --check-config --config "$S/rel.conf"
check "--check-config with 'rootfs rel/dir': exit 2 (got $RC)" [ "$RC" = 2 ]
check "... the message gives file and line" grep -q "rel.conf:4: rootfs: 'rel/dir' is not an absolute path" "$ERR"
printf 'watch %s\nforeground 1\ncanary ../x\n' "$W" >"$S/rel2.conf"
run --check-config --config "$S/rel2.conf"
check "--check-config with 'canary ../x': exit 2 (got $RC)" [ "$RC" = 2 ]
run --check-config --foreground --watch w --canary "$W/secret*"
check "--watch stays relative-friendly (made absolute): exit 0 (got $RC)" [ "$RC" = 0 ]
finish
