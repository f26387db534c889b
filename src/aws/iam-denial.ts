/*
 * What an AWS access-denied message says about where the denial comes from (the IAM User Guide's "access denied
 * error messages": `User: <arn> is not authorized to perform: <action> on resource: <arn> with an explicit deny in a
 * <policy type>` or `... because no <policy type> allows the <action> action`; an SCP may read `due to an explicit
 * deny in a Service Control Policy`). "Grant <action>" is the fix only for a missing Allow in the identity's own
 * policies: an explicit Deny wins over any Allow, and a repository of another account needs its owner's Allow.
 */

/** Where an explicit Deny (or a missing Allow) sits, and who can change it; keyed by the words AWS uses. */
const PLACES: ReadonlyArray<{ words: RegExp; deny: (repo: string | undefined) => string; allow?: (action: string, repo: string | undefined) => string }> = [
  {
    words: /resource-based/i,
    deny: (repo) => `the repository's policy${repo === undefined ? '' : ` (aws ecr get-repository-policy --repository-name ${repo})`} or the registry's policy: their owner must remove or narrow that statement`,
    allow: (action, repo) =>
      action === 'ecr:CreateRepository'
        ? "no statement of the registry's policy allows ecr:CreateRepository to this identity: in a registry of another AWS account, its owner creates the repositories (or allows it in that registry's permissions)"
        : `no statement of the repository's policy allows ${action} to this identity: a repository of another AWS account (cross-account push) needs its owner to allow it there${repo === undefined ? '' : ` (aws ecr set-repository-policy --repository-name ${repo} in that account)`}, as well as this identity's own IAM policy`,
  },
  { words: /service control/i, deny: () => 'a service control policy of your AWS Organization: only its administrators can change it' },
  { words: /resource control/i, deny: () => 'a resource control policy of your AWS Organization: only its administrators can change it' },
  {
    words: /permissions boundary/i,
    deny: () => "this identity's permissions boundary: an IAM administrator must change the boundary",
    allow: (action) => `this identity's permissions boundary does not allow ${action}: an IAM administrator must add it to the boundary too`,
  },
  {
    words: /session/i,
    deny: () => "the session policy the role was assumed with (your CI's assume-role or OIDC step passes it): change it there",
    allow: (action) => `the session policy the role was assumed with (your CI's assume-role or OIDC step passes it) does not allow ${action}: add it there`,
  },
  {
    words: /vpc endpoint/i,
    deny: () => 'the policy of the VPC endpoint the ECR calls go through: its owner must change it',
    allow: (action) => `the policy of the VPC endpoint the ECR calls go through does not allow ${action}: its owner must add it`,
  },
  { words: /identity-based/i, deny: () => 'a policy attached to this IAM identity (its user, role or groups): remove or narrow that statement in IAM' },
];

/**
 * A hint for an AWS denial of `action` whose message says more than "no Allow in the identity's policies": where the
 * explicit Deny sits, or which other policy lacks the Allow. Undefined for the plain case (and messages of other
 * shapes): the caller's "grant <action>" hint is right there.
 */
export function iamDenialHint(action: string, message: string, repository?: string): string | undefined {
  const explicit = /explicit deny in (?:an? |the )?([^.;:]+)/i.exec(message)?.[1];
  if (explicit !== undefined) {
    const place = PLACES.find((p) => p.words.test(explicit));
    const where = place?.deny(repository) ?? `${explicit.trim()}: its owner must remove or narrow that statement`;
    return `an explicit Deny refuses ${action} to this identity, and no Allow anywhere overrides a Deny; it sits in ${where}`;
  }
  const missing = /because no ([^.;:]+?) allows/i.exec(message)?.[1];
  if (missing === undefined) return undefined;
  const place = PLACES.find((p) => p.words.test(missing));
  return place?.allow?.(action, repository);
}
