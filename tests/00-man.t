#!/bin/sh
# Every command has a man page, and every man page is mandoc -Tlint clean.
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
ls "$top"/man/pipemail.7 >/dev/null 2>&1
ok $? "the section-7 overview exists"
done_testing
