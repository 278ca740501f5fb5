#!/bin/sh
# Every fuzz target builds with libFuzzer + ASan/UBSan and survives a short
# run from an empty corpus. (Long runs: make fuzz FUZZTIME=600.)
. "$(dirname "$0")/lib.sh"
[ -n "${PIPEMAIL_SANITIZED:-}" ] && skip_all "runs once, in the plain pass"
command -v clang >/dev/null || skip_all "clang not installed"
set -- "$top"/tests/fuzz/*.c
[ -f "$1" ] || skip_all "no fuzz targets yet"
san="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all"
inc="-Ilib $(pkg-config --cflags libtls 2>/dev/null)"
libs="$(pkg-config --libs libtls 2>/dev/null || echo -ltls) -lcdb -lcrypt -lresolv -lidn2 -lz -lm"
mkdir -p "$T/lib"
cd "$top" || exit 1
okc=0
for c in lib/*.c; do
	clang -std=c11 -D_GNU_SOURCE -g -O1 $san $inc -c -o "$T/lib/$(basename "$c" .c).o" "$c" || okc=1
done
ok $okc "lib builds for fuzzing"
for f in "$@"; do
	n=$(basename "$f" .c)
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$inc -o "$T/$n" "$f" "$T"/lib/*.o $libs
	ok $? "fuzz target $n builds"
	mkdir -p "$T/corpus-$n"
	ASAN_OPTIONS=detect_leaks=0 "$T/$n" -max_total_time=3 -timeout=5 -rss_limit_mb=2048 \
		"$T/corpus-$n" >"$T/$n.log" 2>&1
	r=$?
	ok $r "fuzz target $n survives a short run"
	[ $r -eq 0 ] || diag "$(tail -n 30 "$T/$n.log")"
done
done_testing
