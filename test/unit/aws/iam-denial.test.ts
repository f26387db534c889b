import { describe, expect, it } from 'vitest';
import { iamDenialHint } from '../../../src/aws/iam-denial.js';

// AWS's access-denied message shapes (IAM User Guide, "Access denied error messages").
const msg = (tail: string) => `User: arn:aws:iam::123456789012:role/ci is not authorized to perform: ecr:PutImage on resource: arn:aws:ecr:us-east-1:123456789012:repository/p/r ${tail}`;

describe('iamDenialHint', () => {
  it('a missing Allow in the identity\'s own policies, or a message of another shape: undefined (the caller says "grant")', () => {
    expect(iamDenialHint('ecr:PutImage', msg('because no identity-based policy allows the ecr:PutImage action'))).toBeUndefined();
    expect(iamDenialHint('ecr:PutImage', 'Access denied')).toBeUndefined();
  });

  it('an explicit Deny names where it sits', () => {
    expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a resource-based policy'), 'p/r')).toBe(
      "an explicit Deny refuses ecr:PutImage to this identity, and no Allow anywhere overrides a Deny; it sits in the repository's policy (aws ecr get-repository-policy --repository-name p/r) or the registry's policy: their owner must remove or narrow that statement",
    );
    expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in an identity-based policy'))).toContain('it sits in a policy attached to this IAM identity');
    expect(iamDenialHint('ecr:PutImage', msg('due to an explicit deny in a Service Control Policy'))).toContain('a service control policy of your AWS Organization');
    expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a permissions boundary'))).toContain("this identity's permissions boundary");
    expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a session policy'))).toContain('the session policy the role was assumed with');
    expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a VPC endpoint policy'))).toContain('the policy of the VPC endpoint');
    expect(iamDenialHint('ecr:PutImage', msg('with an explicit deny in a resource control policy'))).toContain('a resource control policy of your AWS Organization');
  });

  it('a missing Allow in another policy: that policy', () => {
    expect(iamDenialHint('ecr:PutImage', msg('because no resource-based policy allows the ecr:PutImage action'), 'p/r')).toContain('(aws ecr set-repository-policy --repository-name p/r in that account)');
    expect(iamDenialHint('ecr:CreateRepository', msg('because no resource-based policy allows the ecr:CreateRepository action'), 'p/r')).toContain("no statement of the registry's policy allows ecr:CreateRepository");
    expect(iamDenialHint('ecr:PutImage', msg('because no permissions boundary allows the ecr:PutImage action'))).toContain('permissions boundary does not allow ecr:PutImage');
    expect(iamDenialHint('ecr:PutImage', msg('because no session policy allows the ecr:PutImage action'))).toContain('does not allow ecr:PutImage: add it there');
  });
});
