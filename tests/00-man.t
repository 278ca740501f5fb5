#!/bin/sh
# Every command has a man page naming each of its options, and every man
# page is mandoc -Tlint clean.
. "$(dirname "$0")/lib.sh"
command -v mandoc >/dev/null || skip_all "mandoc not installed"
for d in "$top"/cmd/*/; do
	[ -d "$d" ] || continue
	n=$(basename "$d")
	ls "$top"/man/"$n".[1-8] >/dev/null 2>&1
	ok $? "cmd/$n has a man page"
done
for m in "$top"/man/*.[1-8]; do
	out=$(mandoc -Tlint -W warning "$m" 2>&1)
	ok $? "$(basename "$m") is mandoc -Tlint clean"
	[ -n "$out" ] && diag "$out"
done
# every option letter a command's getopt takes is named in its page
# (".Fl x", or among grouped ones as in ".Fl ev")
for f in "$top"/cmd/*/main.c; do
	n=$(basename "$(dirname "$f")")
	opts=$(sed -n 's/.*getopt(argc, argv, "\([^"]*\)").*/\1/p' "$f" | tr -d '+:')
	[ -n "$opts" ] || continue
	page=$(ls "$top"/man/"$n".[1-8] 2>/dev/null | head -n 1)
	missing=
	for c in $(printf '%s' "$opts" | fold -w1); do
		grep -qE "Fl [A-Za-z0-9]*$c" "$page" 2>/dev/null || missing="$missing -$c"
	done
	[ -z "$missing" ]
	ok $? "$n: every option in its man page${missing:+ (missing:$missing)}"
done
ls "$top"/man/pipemail.7 >/dev/null 2>&1
ok $? "the section-7 overview exists"
done_testing
