#!/bin/sh
# spamcheck's training lock (db.lock) when trainers are different users:
# root trains a user's per-user database from cron (-u MAILDIR/.spamcheck.db,
# INSTALL section 7), and the user trains it too (the delivery recipe's
# "train with the same option"). The lock file root created (0644) once
# locked the user out for good: it was opened read-write, so every later
# training by the user failed with EACCES (exit 111). A local flock needs
# only a read-only descriptor, the fallback when read-write is denied. A FIFO the user plants as the lock must not hang
# root's training (opened O_NONBLOCK, refused as not a regular file).
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
[ "$(id -u)" = 0 ] || skip_all "needs root to train as two users"
command -v setpriv >/dev/null 2>&1 || skip_all "no setpriv"
as_user() { setpriv --reuid="$MAILUID" --regid="$MAILGID" --clear-groups "$@"; }
mkdir "$T/maildir"
chown "$MAILUID:$MAILGID" "$T/maildir"
printf 'Subject: cheap pills\n\nbuy cheap pills now\n' > "$T/msg"
chmod 644 "$T/msg"
U=$T/maildir/.spamcheck.db

"$SC" -d "$T/none.db" -u "$U" -s < "$T/msg" 2>/dev/null
ok $? "root trains the user's database"
[ -f "$U.lock" ] && [ "$(stat -c %u "$U.lock")" = 0 ]
ok $? "the lock file is root's"
as_user "$SC" -d "$T/none.db" -u "$U" -s < "$T/msg" 2>"$T/err"
is $? 0 "then the user trains it too (exit 0)"
grep -q 'event=train' "$T/err"
ok $? "and it is learnt"
printf 'Subject: cheap pills\n\nbuy cheap pills now\n' | "$SC" -d "$T/none.db" -u "$U" 2>/dev/null | grep -q '^X-Spam-Score'
ok $? "the database classifies"
od -A n -t u8 -j 24 -N 8 "$U" | tr -d ' ' > "$T/nspam"
is "$(cat "$T/nspam")" 2 "both messages counted"

# where the trainer may write the lock it still opens it read-write: NFS
# emulates flock with fcntl locks, whose exclusive kind needs that
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
	strace -f -e trace=open,openat -o "$T/trace" "$SC" -d "$T/none.db" -u "$U" -s < "$T/msg" 2>/dev/null
	grep -q "spamcheck.db.lock\", O_RDWR" "$T/trace"
	ok $? "root opens its own lock read-write (NFS)"
fi

rm -f "$U.lock"
mkfifo "$U.lock" || skip_all "no mkfifo"
timeout 10 "$SC" -d "$T/none.db" -u "$U" -s < "$T/msg" 2>/dev/null
is $? 111 "a FIFO as the lock: root's training fails at once (111), no hang"
done_testing
