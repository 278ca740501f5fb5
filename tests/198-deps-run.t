#!/bin/sh
# scripts/deps --run (make run's) asks for what builds and runs pipemail
# and the clients its banner names, never the test suite's peers: Postfix
# would replace the machine's MTA (exim4). A dpkg-query that knows no
# package makes every one missing; as non-root deps only prints the line.
. "$(dirname "$0")/lib.sh"
mkdir -p "$T/fake"
printf '#!/bin/sh\nexit 1\n' > "$T/fake/dpkg-query"
chmod 755 "$T/fake/dpkg-query"
deps() {
	if [ "$(id -u)" = 0 ]; then
		setpriv --reuid=65534 --regid=65534 --clear-groups env PATH="$T/fake:$PATH" sh "$top/scripts/deps" "$@"
	else
		PATH="$T/fake:$PATH" sh "$top/scripts/deps" "$@"
	fi
}
words() { sed -n 's/.*apt-get install -y --no-install-recommends//p' "$1" | tr ' ' '\n' | grep -v '^$' | sort; }

deps --run > /dev/null 2> "$T/run"
is $? 1 "--run as non-root: exit 1, the command printed"
words "$T/run" > "$T/run.words"
for p in gcc libtls-dev s6 ucspi-tcp openssl swaks curl libnet-ssleay-perl; do
	grep -qx "$p" "$T/run.words"
	ok $? "--run wants $p"
done
for p in postfix nsd clang fetchmail; do
	grep -qx "$p" "$T/run.words"
	is $? 1 "--run does not want $p (the test suite's)"
done
deps > /dev/null 2> "$T/all"
words "$T/all" > "$T/all.words"
grep -qx postfix "$T/all.words"
ok $? "without --run (make test) Postfix is wanted"
done_testing
