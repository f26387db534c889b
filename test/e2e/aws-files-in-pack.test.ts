import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectRun, runCli } from '../support/cli.js';
import { writePack } from '../support/packs.js';
import { setup } from '../support/stage.js';

/*
 * HOME the pack folder (a container whose HOME is the checkout that is the pack), packpub's cache moved out as its
 * refusal says: the AWS shared credentials file `aws configure` writes there (~/.aws/credentials, which packpub itself
 * reads for ECR) was published inside the pack, exit 0. Refused before anything runs, as the Docker config is, unless
 * the pack's .packignore leaves it out.
 */

const w = setup(async (stack) => ({ root: await stack.tempDir() }));

const CREDENTIALS = '[default]\naws_access_key_id = AKIAEXAMPLEKEY\naws_secret_access_key = example-secret\n';

describe('the AWS shared files inside the pack folder being pushed', () => {
  it('~/.aws/credentials with HOME the pack: push and build refused, exit 2, nothing written (was: published with the keys)', async () => {
    const pack = await writePack(join(w.root, 'aws-home'), { name: 'awshome', version: '1.0.0' });
    await mkdir(join(pack, '.aws'));
    await writeFile(join(pack, '.aws', 'credentials'), CREDENTIALS);
    const env = { HOME: pack };
    const layout = join(w.root, 'aws-home-layout');
    const said = `the AWS credentials file ${join(pack, '.aws', 'credentials')} is inside the pack folder ${pack}`;
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: pack, env }), { code: 2, stdout: '', stderr: [`${said}: every push would put it into the pack's archive`, 'a line ".aws/" in its .packignore'] });
    expectRun(await runCli(['build', '.', '-o', join(w.root, 'aws-home.tar.gz')], { cwd: pack, env }), { code: 2, stderr: [`${said}: every build would put it into the pack's archive`] });
    expect(existsSync(layout)).toBe(false);
    expect(existsSync(join(w.root, 'aws-home.tar.gz'))).toBe(false);
    // Into a folder of the pack its .packignore leaves out: refused before that folder is made (it was made first).
    await writeFile(join(pack, '.packignore'), 'dist/\n');
    expectRun(await runCli(['build', '.', '-o', 'dist/'], { cwd: pack, env }), { code: 2, stderr: [`${said}: every build would put it into the pack's archive`] });
    expect(existsSync(join(pack, 'dist'))).toBe(false);

    // Left out by .packignore: published without it.
    await writeFile(join(pack, '.packignore'), '.aws/\n');
    expectRun(await runCli(['push', '.', '--oci-layout', layout], { cwd: pack, env }), { code: 0, stdout: ['published awshome:1.0.0'] });
    const out = join(w.root, 'aws-home-pulled');
    expectRun(await runCli(['pull', 'awshome:1.0.0', '--oci-layout', layout, '-o', out]), { code: 0 });
    expect(await readdir(out)).not.toContain('.aws');
  });

  it('AWS_SHARED_CREDENTIALS_FILE naming a file in the pack: refused, the .packignore line naming the file', async () => {
    const pack = await writePack(join(w.root, 'aws-file'), { name: 'awsfile', version: '1.0.0' });
    await writeFile(join(pack, 'ci-credentials'), CREDENTIALS);
    const layout = join(w.root, 'aws-file-layout');
    expectRun(await runCli(['push', pack, '--oci-layout', layout], { env: { AWS_SHARED_CREDENTIALS_FILE: join(pack, 'ci-credentials') } }), {
      code: 2,
      stderr: [`the AWS credentials file ${join(pack, 'ci-credentials')} is inside the pack folder ${pack}`, 'AWS_SHARED_CREDENTIALS_FILE', 'a line "ci-credentials" in its .packignore'],
    });
    expect(existsSync(layout)).toBe(false);
  });
});
