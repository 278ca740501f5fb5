#!/bin/sh
# spamcheck training replaces the database with a new file: that file
# took the trainer's umask and owner, so root retraining from a cron job
# with umask 077 (or 027) left a 0600 root file that the classifiers
# (smtp-recv's user in the queue chain, a user's delivery) could no
# longer open, and every message got a temporary failure (55, 451 at
# SMTP) until someone noticed. The new file now keeps the old one's
# permission bits and group (and, trained by root, its owner: a user's
# per-user database stays the user's).
. "$(dirname "$0")/lib.sh"
SC=$BIN/spamcheck
[ -x "$SC" ] || skip_all "spamcheck not built"
printf 'Subject: cheap pills\n\nbuy cheap pills now\n' > "$T/msg"
DB=$T/sc.db
(umask 022 && "$SC" -d "$DB" -s "$T/msg" 2>/dev/null)
is "$(stat -c %a "$DB")" 644 "a new database: 0644 under umask 022"
(umask 077 && "$SC" -d "$DB" -n "$T/msg" 2>/dev/null)
ok $? "retrained under umask 077"
is "$(stat -c %a "$DB")" 644 "still 0644: readable by the classifiers"
chmod 640 "$DB"
(umask 000 && "$SC" -d "$DB" -s "$T/msg" 2>/dev/null)
is "$(stat -c %a "$DB")" 640 "a 0640 database stays 0640 under umask 000"

# made 0600 and opened up when whole: a 0600 database is never readable
# by others through its temporary name
chmod 600 "$DB"
if command -v strace >/dev/null 2>&1 && strace -o /dev/null true 2>/dev/null; then
	(umask 022 && strace -e trace=open,openat -o "$T/trace" "$SC" -d "$DB" -s "$T/msg" 2>/dev/null)
	grep -q 'sc.db.tmp", .*O_CREAT.*, 0600)' "$T/trace"
	ok $? "the temporary file is made 0600"
fi
is "$(stat -c %a "$DB")" 600 "a 0600 database stays 0600 under umask 022"
if [ "$(id -u)" = 0 ]; then   # only root reads a 0000 file
	chmod 000 "$DB"
	(umask 022 && "$SC" -d "$DB" -s "$T/msg" 2>/dev/null)
	is "$(stat -c %a "$DB")" 0 "a 0000 database stays 0000 (no bits is not no file)"
fi
chmod 640 "$DB"

if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	as_user() { setpriv --reuid="$MAILUID" --regid="$MAILGID" --clear-groups "$@"; }
	chgrp "$MAILGID" "$DB"
	(umask 077 && "$SC" -d "$DB" -s "$T/msg" 2>/dev/null)
	is "$(stat -c %a:%u:%g "$DB")" "640:0:$MAILGID" "root keeps the group that reads it (0640 root:mail group)"
	as_user "$SC" -d "$DB" -q true < "$T/msg" 2>/dev/null
	is $? 0 "the classifier's user still reads it in the queue chain (not 55)"
	mkdir "$T/maildir"
	chown "$MAILUID:$MAILGID" "$T/maildir"
	(umask 022 && as_user "$SC" -d "$T/none.db" -u "$T/maildir/.spamcheck.db" -s < "$T/msg" 2>/dev/null)
	is "$(stat -c %u "$T/maildir/.spamcheck.db")" "$MAILUID" "a user's own database"
	(umask 077 && "$SC" -d "$T/none.db" -u "$T/maildir/.spamcheck.db" -s < "$T/msg" 2>/dev/null)
	is "$(stat -c %a:%u:%g "$T/maildir/.spamcheck.db")" "644:$MAILUID:$MAILGID" "trained by root, it stays the user's, 0644"
fi
done_testing
