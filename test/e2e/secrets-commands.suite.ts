import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ProxyAction, type ProxyRequestInfo, startRecordingProxy } from '../support/recording-proxy.js';
import { type CliRun, runBin, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { leaks, type SecretForm, secretForms, stackLines } from '../support/secrets.js';
import { setup } from '../support/stage.js';
import { registryWith } from '../support/push-setup.js';

/*
 * issue 6, "Secrets": every command, in --debug and (where it has one) --json mode, against an htpasswd
 * (Basic) registry and a token-auth (Harbor-like) registry, with the right password, a wrong one, and a
 * registry that fails uploads while echoing the request's Authorization header and the password back.
 * No output may hold the password, the wrong password, a token the token service issued, or their base64
 * forms. No secret may be redacted only because an earlier run happened to register it: runs in this
 * process (runCli) go one at a time, each from no registered secret, as a fresh process starts.
 * Each family of error paths also runs once as a fresh process of the built CLI, where whatever prints
 * (the bundle's error rendering, Node itself) reaches the output that is scanned: credentials rejected, a
 * registry's error answer and a reset connection with --debug's causes and stacks, and (once, in the
 * htpasswd file: no registry is asked) a usage error with --debug's stack. The other runs of each family
 * run the same CLI code in-process, which spares ~0.5 CPU-s of process start-up per run.
 */

const USER = 'ci-robot';
const PASSWORD = 'Sup3r-S3cret+Passw0rd/4d1e';
const WRONG = 'Wr0ng-Guess-Passw0rd-77ab';

/** The whole check against one kind of registry; one test file per kind, so the two run side by side. */
export function secretsSuite(mode: 'htpasswd' | 'token'): void {
  describe(`no secret in any output: ${mode} registry`, () => {
    const outputs: Array<{ label: string; text: string }> = [];

    const forms = (): SecretForm[] => [
      ...secretForms('password', PASSWORD, USER),
      ...secretForms('wrong password', WRONG, USER),
      ...(w.tokens?.issuedTokens ?? []).flatMap((t, i) => [
        ...secretForms(`token #${i}`, t),
        { label: `token #${i} signature`, value: t.split('.')[2] ?? t },
      ]),
    ];

    /** Run the CLI in this process (never two at once), or as a fresh process of the built CLI; keep its output for the final scan, and check it now. */
    async function cli(label: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}, inProcess = false): Promise<CliRun> {
      const runOptions = { env: { ...w.env, ...options.env }, cwd: w.root, ...(options.stdin === undefined ? {} : { stdin: options.stdin }) };
      const run = inProcess ? await runCli(args, runOptions) : await runBin(args, runOptions);
      const text = `${run.stdout}\n${run.stderr}`;
      outputs.push({ label, text });
      expect(leaks(text, forms()), `${label} printed a secret`).toEqual([]);
      return run;
    }

    /** `cli` in this process, starting from the secrets a fresh process holds (none); awaited before the next. */
    const cliHere = (label: string, args: string[], options: { env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<CliRun> => cli(label, args, options, true);

    const withPassword = (password: string) => ({ PACKPUB_USERNAME: USER, PACKPUB_PASSWORD: password });

    const w = setup(async (stack) => {
      const root = await stack.tempDir(`packpub-secrets-${mode}-`);
      const { registry, tokens } = await registryWith(stack, mode, { [USER]: PASSWORD });
      const proxy = stack.add(await startRecordingProxy(registry.host));
      const R = proxy.host;
      await mkdir(join(root, 'home'));
      const env = { SOURCE_DATE_EPOCH: '1700000000', HOME: join(root, 'home'), DOCKER_CONFIG: join(root, 'docker'), PACKPUB_CACHE_DIR: join(root, 'cache') };
      for (const [i, v] of ['1.0.0', '1.0.1', '1.0.2', '1.0.3', '1.0.4'].entries()) await writePack(join(root, `p${i}`), { name: 'secret-pack', version: v });
      return { tokens, registry, proxy, root, env, R };
    });

    // validate, build and init touch no registry, so the kind of registry changes nothing for them: the
    // htpasswd file runs them.
    if (mode === 'htpasswd')
      it('local commands (validate, build, init) with a password in the environment', async () => {
        const e = { env: withPassword(PASSWORD) };
        const validate = await cliHere('validate', ['validate', 'p0', '--json', '--debug'], e);
        const build = await cliHere('build', ['build', 'p0', '-o', 'p0.tar.gz', '--registry', `${w.R}/base`, '--json', '--debug'], e);
        const init = await cliHere('init', ['init', 'fresh', '--name', 'fresh', '--version', '0.1.0', '--json', '--debug'], e);
        expect(validate.code).toBe(0);
        expect(build.code, build.stderr).toBe(0);
        expect(init.code).toBe(0);
      });

    it('push, list, inspect, pull, tag and copy with the right password', async () => {
      const e = { env: withPassword(PASSWORD) };
      const push = await cliHere('push --json', ['push', 'p0', '--registry', `${w.R}/base`, '--json', '--debug'], e);
      const stdinPush = await cliHere('push -u --password-stdin', ['push', 'p1', '--registry', `${w.R}/base`, '-u', USER, '--password-stdin', '--debug'], { stdin: `${PASSWORD}\n` });
      expect(push.code, push.stderr).toBe(0);
      expect(push.stderr).toContain('debug: PUT '); // the trace was on
      expect(stdinPush.code, stdinPush.stderr).toBe(0);
      // Each reads secret-pack:1.0.0, which the push above published; tag and copy write elsewhere.
      const list = await cliHere('list', ['list', '--registry', `${w.R}/base`, '--json', '--debug'], e);
      const inspect = await cliHere('inspect', ['inspect', 'secret-pack:1.0.0', '--registry', `${w.R}/base`, '--json', '--debug'], e);
      const pull = await cliHere('pull', ['pull', 'secret-pack:1.0.0', '--registry', `${w.R}/base`, '-o', 'pulled', '--json', '--debug'], e);
      const tag = await cliHere('tag', ['tag', 'secret-pack:1.0.0', '1.0.x', '--registry', `${w.R}/base`, '--debug'], e);
      const copy = await cliHere('copy', ['copy', 'secret-pack:1.0.0', '--from', `${w.R}/base`, '--to', `${w.R}/promoted`, '--json', '--debug'], {
        env: { PACKPUB_FROM_USERNAME: USER, PACKPUB_FROM_PASSWORD: PASSWORD, PACKPUB_TO_USERNAME: USER, PACKPUB_TO_PASSWORD: PASSWORD },
      });
      expect(list.code, list.stderr).toBe(0);
      expect(inspect.code, inspect.stderr).toBe(0);
      expect(pull.code, pull.stderr).toBe(0);
      expect(tag.code, tag.stderr).toBe(0);
      expect(copy.code, copy.stderr).toBe(0);
      expect(w.proxy.count((r) => r.hadAuthorization)).toBeGreaterThan(0);
    });

    it('login, commands with the saved credentials, logout', async () => {
      const login = await cliHere('login', ['login', w.R, '-u', USER, '--password-stdin', '--debug'], { stdin: PASSWORD });
      expect(login.code, login.stderr).toBe(0);
      // The saved file holds the credential: readable by its owner only.
      expect((await stat(join(w.root, 'docker', 'config.json'))).mode & 0o777).toBe(0o600);
      expect((await cliHere('list (docker config)', ['list', '--registry', `${w.R}/base`, '--json', '--debug'])).code).toBe(0);
      expect((await cliHere('pull (docker config)', ['pull', 'secret-pack:1.0.1', '--registry', `${w.R}/base`, '-o', 'pulled-2', '--debug'])).code).toBe(0);
      expect((await cliHere('logout', ['logout', w.R, '--debug'])).code).toBe(0);
    });

    it('every command with a wrong password fails without printing it', async () => {
      const e = { env: withPassword(WRONG) };
      // Every run is refused before it changes anything: the process runs beside the in-process runs, which
      // run one after another.
      const reads = [
        ['list wrong', ['list', '--registry', `${w.R}/base`, '--json', '--debug']],
        ['inspect wrong', ['inspect', 'secret-pack:1.0.0', '--registry', `${w.R}/base`, '--json', '--debug']],
        ['pull wrong', ['pull', 'secret-pack:1.0.0', '--registry', `${w.R}/base`, '-o', 'nope', '--debug']],
        ['tag wrong', ['tag', 'secret-pack:1.0.0', 'x', '--registry', `${w.R}/base`, '--debug']],
      ] as const;
      const pushProcess = cli('push wrong', ['push', 'p2', '--registry', `${w.R}/base`, '--json', '--debug'], e);
      const stdin = await cliHere('push -u --password-stdin wrong', ['push', 'p2', '--registry', `${w.R}/base`, '-u', USER, '--password-stdin', '--debug'], { stdin: WRONG });
      const copy = await cliHere('copy wrong', ['copy', 'secret-pack:1.0.0', '--from', `${w.R}/base`, '--to', `${w.R}/elsewhere`, '--json', '--debug'], {
        env: { PACKPUB_FROM_USERNAME: USER, PACKPUB_FROM_PASSWORD: PASSWORD, PACKPUB_TO_USERNAME: USER, PACKPUB_TO_PASSWORD: WRONG },
      });
      const login = await cliHere('login wrong', ['login', w.R, '-u', USER, '--password-stdin', '--debug', '--registry-config', join(w.root, 'wrong.json')], { stdin: WRONG });
      const readRuns: CliRun[] = [];
      for (const [label, args] of reads) readRuns.push(await cliHere(label, [...args], e));
      const push = await pushProcess;
      expect(push.code).toBe(1);
      expect(push.stdout).toMatch(/credentials rejected/);
      for (const [i, [label]] of reads.entries()) {
        const run = readRuns[i];
        expect(run?.code, `${label}: ${run?.stderr}`).toBe(1);
        expect(run?.stderr).toMatch(/^error: /m);
      }
      expect(stdin.code).toBe(1);
      expect(copy.code).toBe(1);
      // The stand-in token service, unlike Harbor, grants wrong credentials an empty token that `GET /v2/`
      // accepts, so only the Basic registry can refuse this login; either way nothing may leak.
      if (mode === 'htpasswd') {
        expect(login.code).toBe(1);
        expect(login.stderr).toMatch(/^error: credentials rejected/m);
        expect(login.stderr).not.toContain('run packpub login'); // it is packpub login
      }
    });

    /** The server's answer to a failed upload, echoing the request's Authorization header and the password. */
    const echo = (req: ProxyRequestInfo): ProxyAction => ({
      status: 500,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        errors: [{ code: 'UNKNOWN', message: `storage backend failed; request carried Authorization: ${req.headers.authorization ?? '-'} password=${PASSWORD}` }],
      }),
    });
    const failing = ['--retry-attempts', '2', '--retry-delay', '0.01', '--debug'];

    it('an upload failing with an answer that echoes the Authorization header and the password (json)', async () => {
      w.proxy.onRequest = (req) => (req.kind === 'upload-put' ? echo(req) : 'pass');
      try {
        const run = await cliHere('push, upload fails (json)', ['push', 'p3', '--registry', `${w.R}/base`, ...failing, '--json'], { env: withPassword(PASSWORD) });
        expect(run.code).toBe(1);
        expect(`${run.stdout}${run.stderr}`).toContain('storage backend failed; request carried Authorization: ');
      } finally {
        w.proxy.onRequest = undefined;
      }
    });

    it('one upload failing with that echo, another whose connection is reset, with the cause and stack printed by --debug', async () => {
      // One run, two packs: the first layer the registry is sent gets the echo, the other the reset.
      const layers: string[] = [];
      w.proxy.onRequest = (req) => {
        if (req.kind !== 'upload-put') return 'pass';
        const layer = /[?&]digest=([^&]+)/.exec(req.path)?.[1] ?? req.path;
        if (!layers.includes(layer)) layers.push(layer);
        return layers.indexOf(layer) === 0 ? echo(req) : 'reset';
      };
      try {
        const run = await cli('push, upload fails and upload reset', ['push', 'p3', 'p4', '--registry', `${w.R}/base`, ...failing], { env: withPassword(PASSWORD) });
        expect(layers).toHaveLength(2);
        expect(run.code).toBe(1);
        expect(`${run.stdout}${run.stderr}`).toContain('storage backend failed; request carried Authorization: ');
        expect(run.stderr).toContain('was closed unexpectedly');
      } finally {
        w.proxy.onRequest = undefined;
      }
      // A usage error with --debug prints a stack, still without secrets (refused before any registry is
      // asked: the htpasswd file runs it as a process).
      const usage = await cli('usage error', ['push', 'p3', '--registry', `${w.R}/Base`, '--debug'], { env: withPassword(PASSWORD) }, mode === 'token');
      expect(usage.code).toBe(2);
      expect(stackLines(usage.stderr).length).toBeGreaterThan(0);
    });

    it('holds: all outputs scanned again with every token issued during the run', () => {
      if (mode === 'token') expect(w.tokens?.issuedTokens.length).toBeGreaterThan(0);
      const found = outputs.flatMap(({ label, text }) => leaks(text, forms()).map((f) => `${label}: ${f}`));
      expect(found).toEqual([]);
      expect(outputs.length).toBeGreaterThanOrEqual(20);
    });
  });
}

