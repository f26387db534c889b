import { copyFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { awsConnectionOf } from '../../../src/targets/options.js';
import { failure } from '../../support/errors.js';
import { stage } from '../../support/stage.js';
import { makeTestCertificates } from '../../support/tls.js';

/*
 * What a target's AWS API clients trust (src/targets/options.ts awsConnectionOf): Node's roots once, then the
 * target's --ca-file, then the bundle AWS_CA_BUNDLE names (as the aws CLI reads it; `~/` is the env's HOME).
 */

const stack = stage();

describe('awsConnectionOf', () => {
  it('nothing to trust besides Node: no trust store of its own (the SDK keeps its own agent when no proxy is set either)', () => {
    expect(awsConnectionOf({ env: { HTTPS_PROXY: 'http://proxy:3128' } })).toEqual({ env: { HTTPS_PROXY: 'http://proxy:3128' } });
    expect(awsConnectionOf({ env: { AWS_CA_BUNDLE: '' } }).trust).toBeUndefined();
  });

  it('--ca-file and AWS_CA_BUNDLE (~/ read against the env\'s HOME): the roots once, then each file', async () => {
    const home = await stack.tempDir('packpub-aws-trust-');
    const own = stack.add(await makeTestCertificates({ hosts: ['registry.test'] }));
    const corporate = stack.add(await makeTestCertificates({ hosts: ['api.ecr.test'] }));
    await copyFile(corporate.caFile, join(home, 'corp-ca.pem'));
    const trust = awsConnectionOf({ caFile: own.caFile, env: { HOME: home, AWS_CA_BUNDLE: '~/corp-ca.pem' } }).trust;
    const ca = await trust?.();
    const roots = rootCertificates.length;
    expect(ca?.slice(0, roots)).toEqual([...rootCertificates]);
    expect(ca?.slice(-2)).toEqual([await readFile(own.caFile, 'utf8'), await readFile(corporate.caFile, 'utf8')]);
    expect(ca?.filter((c) => c === rootCertificates[0])).toHaveLength(1);
  });

  it('an AWS_CA_BUNDLE that cannot be read is refused naming the variable when a client is opened', async () => {
    const trust = awsConnectionOf({ env: { AWS_CA_BUNDLE: '/nonexistent/packpub-test/ca.pem' } }).trust;
    const refused = await failure((async () => trust?.())());
    expect(refused.code).toBe('USAGE');
    expect(refused.message).toContain('cannot read AWS_CA_BUNDLE /nonexistent/packpub-test/ca.pem');
  });
});
