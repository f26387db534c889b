#!/usr/bin/env bash
# Run packpub in a CI job's shell step so that a cancelled job's signal reaches it: copy this file into the
# repository that holds your packs (e.g. ci/run-packpub.sh) and call it as you would call packpub:
#
#   bash ci/run-packpub.sh push packs/ --recursive --registry "$REGISTRY" --json > packpub-report.json
#
# Why: a cancelled job signals the step's processes (GitLab's Docker and Kubernetes executors, `docker stop`,
# Jenkins' abort), and a shell waiting for a command in the foreground passes no signal on to it. This script's
# process becomes packpub (`exec`: the same process id and standard input, --password-stdin included), so a signal
# sent to it is packpub's, once, even when every process of the step is signalled at once: packpub stops starting
# packs, lets the ones in flight finish, writes its reports and exits 130; the script's exit code is packpub's.
# (It ran packpub in the background and passed the signals on from bash traps: with the whole process group
# signalled, bash's `wait`, cut short by a trap, sometimes lost packpub's status and the script exited 143
# instead of 130, about 1 run in 20.) As the last command of a step, `exec packpub ...` does the same with no script.
exec packpub "$@"
