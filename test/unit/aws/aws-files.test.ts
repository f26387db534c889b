import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { awsFilesOf } from '../../../src/aws/ecr-sdk.js';

describe('awsFilesOf: the shared files an environment names, for the SDK', () => {
  it('hands over what is set, reads ~/ against that environment\'s HOME, and leaves out what is unset or empty', () => {
    expect(awsFilesOf({ AWS_SHARED_CREDENTIALS_FILE: '/ci/creds', AWS_CONFIG_FILE: '/ci/config' })).toEqual({ credentialsFile: '/ci/creds', configFile: '/ci/config' });
    expect(awsFilesOf({ HOME: '/home/embedded', AWS_CONFIG_FILE: '~/aws/config' })).toEqual({ configFile: join('/home/embedded', 'aws/config') });
    expect(awsFilesOf({ AWS_SHARED_CREDENTIALS_FILE: '', AWS_CONFIG_FILE: undefined })).toEqual({});
    expect(awsFilesOf(undefined)).toEqual({});
  });

  it('AWS_MAX_ATTEMPTS (the SDK\'s retry setting) as a number; what is no whole number is left to the SDK, which says so', () => {
    expect(awsFilesOf({ AWS_MAX_ATTEMPTS: '1' })).toEqual({ maxAttempts: 1 });
    expect(awsFilesOf({ AWS_MAX_ATTEMPTS: ' 5 ' })).toEqual({ maxAttempts: 5 });
    for (const odd of ['', '0', 'three', '2.5', '-1']) expect(awsFilesOf({ AWS_MAX_ATTEMPTS: odd })).toEqual({});
  });
});
