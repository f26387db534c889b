'use strict';
/*
 * The process that starts the test suite's child processes for a test worker (test/support/spawner.ts, which
 * says why). Asked over its IPC channel to start one, it starts it and hands the ends of the child's stdio
 * pipes to the worker (the worker reads and writes them itself), then its pid; when the child exits, its
 * exit code or signal and the CPU it used (this process's reaped children's CPU since the exit before it).
 * When the worker goes (its channel closes), every child still running is killed and this process ends.
 */
const { spawn } = require('node:child_process');
const { readFileSync } = require('node:fs');

/** CPU of the reaped children (user, system), in ticks of /proc/self/stat. */
function reaped() {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return [Number(fields[13]), Number(fields[14])];
}

let last = reaped();
const running = new Map();

function errorOf(err) {
  return { message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path, spawnargs: err.spawnargs };
}

process.on('message', (m) => {
  if (m === null || typeof m !== 'object' || m.op !== 'spawn') return;
  const { id } = m;
  let child;
  try {
    child = spawn(m.file, m.args, { cwd: m.cwd, env: m.env, stdio: m.stdio, detached: m.detached });
  } catch (err) {
    process.send({ op: 'error', id, error: errorOf(err) });
    return;
  }
  child.on('error', (err) => process.send({ op: 'error', id, error: errorOf(err) }));
  if (child.pid === undefined) return; // not started: its 'error' follows
  running.set(id, child);
  m.stdio.forEach((kind, fd) => {
    if (kind !== 'pipe') return;
    const stream = child.stdio[fd];
    // Not a byte read here: the worker reads the pipe.
    if (fd > 0) stream._handle.readStop();
    process.send({ op: 'pipe', id, fd }, stream);
  });
  process.send({ op: 'spawned', id, pid: child.pid });
  child.on('exit', (code, signal) => {
    running.delete(id);
    const now = reaped();
    process.send({ op: 'exit', id, code, signal, user: now[0] - last[0], sys: now[1] - last[1] });
    last = now;
  });
});

process.on('disconnect', () => {
  for (const child of running.values()) {
    try {
      child.kill('SIGKILL');
    } catch {
      // gone already
    }
  }
  process.exit(0);
});
