import { describe, expect, it } from 'vitest';
import { isEcrHost, parseEcrHost } from '../../../src/aws/ecr-host.js';

describe('parseEcrHost', () => {
  it.each([
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', { accountId: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com', dualStack: false }],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com:443', { accountId: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com', dualStack: false }],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', { accountId: '123456789012', region: 'us-gov-west-1', fips: true, dnsSuffix: 'amazonaws.com', dualStack: false }],
    ['123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', { accountId: '123456789012', region: 'cn-north-1', fips: false, dnsSuffix: 'amazonaws.com.cn', dualStack: false }],
    ['123456789012.dkr-ecr.eu-west-1.on.aws', { accountId: '123456789012', region: 'eu-west-1', fips: false, dnsSuffix: 'on.aws', dualStack: true }],
    ['123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn', { accountId: '123456789012', region: 'cn-northwest-1', fips: false, dnsSuffix: 'on.amazonwebservices.com.cn', dualStack: true }],
    ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', { accountId: '123456789012', region: 'eusc-de-east-1', fips: false, dnsSuffix: 'amazonaws.eu', dualStack: false }],
    ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', { accountId: '123456789012', region: 'us-iso-east-1', fips: false, dnsSuffix: 'c2s.ic.gov', dualStack: false }],
    ['123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM', { accountId: '123456789012', region: 'us-east-1', fips: false, dnsSuffix: 'amazonaws.com', dualStack: false }],
  ])('parses %s', (host, expected) => {
    expect(parseEcrHost(host)).toEqual(expected);
  });

  it.each([
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
    'evil-123456789012.dkr.ecr.us-east-1.amazonaws.com',
    'x123456789012.dkr.ecr.us-east-1.amazonaws.com',
    '12345678901.dkr.ecr.us-east-1.amazonaws.com',
    '1234567890123.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.co',
    '123456789012.dkr.ecr.amazonaws.com',
    '123456789012.ecr.us-east-1.amazonaws.com',
    'public.ecr.aws',
    'harbor.example.com',
    '127.0.0.1:5000',
    '',
  ])('rejects %s', (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
    expect(isEcrHost(host)).toBe(false);
  });
});
