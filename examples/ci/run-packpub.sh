#!/usr/bin/env bash
# Run packpub in a CI job's shell step, where a cancelled job's signal is packpub's own: copy this file into the
# repository that holds your packs (e.g. ci/run-packpub.sh) and call it as you would call packpub:
#
#   bash ci/run-packpub.sh push packs/ --recursive --registry "$REGISTRY" --json > packpub-report.json
#
# Why: a cancelled job is told by a signal, and only a process that is signalled hears it (a shell passes no signal
# on to the command it waits for). GitLab Runner's Docker and Kubernetes executors signal every process of the job's
# script, Jenkins' abort every process of the step: this script's process becomes packpub (`exec`: the same process
# id and standard input, --password-stdin included), so the signal is packpub's, once: packpub stops starting packs,
# lets the ones in flight finish, writes its reports and exits 130; the script's exit code is packpub's, as when
# packpub is called directly. (It ran packpub in the background and passed the signals on from bash traps: with the
# whole process group signalled, bash's `wait`, cut short by a trap, sometimes lost packpub's status and the script
# exited 143 instead of 130, about 1 run in 20.) Where only the job's shell is signalled (`docker stop` of a container
# whose main process is that shell), neither this script nor a command the shell waits for hears it: make packpub
# that shell, `exec packpub ...` as the step's last command, its password in PACKPUB_PASSWORD rather than piped.
exec packpub "$@"
