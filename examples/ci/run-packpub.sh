#!/usr/bin/env bash
# Run packpub in a CI job's shell step so that a cancelled job's signal reaches it: copy this file into the
# repository that holds your packs (e.g. ci/run-packpub.sh) and call it as you would call packpub:
#
#   bash ci/run-packpub.sh push packs/ --recursive --registry "$REGISTRY" --json > packpub-report.json
#
# Why: a cancelled job signals the step's shell (GitLab's Docker and Kubernetes executors, `docker stop`, GitHub's
# runner), and a shell waiting for a command in the foreground passes no signal on to it: packpub was killed
# with the step, without its grace period, its interrupt summary or its reports (the JSON report empty, no
# JUnit file). Here packpub runs in the background, every SIGINT, SIGTERM and SIGHUP the shell gets is passed on, and
# the shell waits until packpub has ended, with packpub's exit code (130 when interrupted, its reports written).
# Where every process of the job is signalled at once (Jenkins' abort, GitLab's runner signalling all of the
# step's processes), packpub gets the same signal twice at once and reads it as one interrupt.
# As the last command of a step, `exec packpub ...` does the same with no script.
set -u
# Standard input stays packpub's (--password-stdin): a background command's would be /dev/null.
packpub "$@" <&0 &
pid=$!
trap 'kill -INT "$pid" 2>/dev/null' INT
trap 'kill -TERM "$pid" 2>/dev/null' TERM
trap 'kill -HUP "$pid" 2>/dev/null' HUP
# wait returns early (above 128) when a signal comes: wait again until packpub has ended.
while :; do
  wait "$pid"
  code=$?
  kill -0 "$pid" 2>/dev/null || break
done
exit "$code"
