import { PackpubError } from '../errors.js';
import type { StoreWarning } from './artifact-store.js';
import type { EcrRepositoryDetails } from './ecr-api.js';
import type { EcrRepositoryOptions } from './options.js';

/*
 * ECR fixes a repository's settings when it is created: CreateRepository on an existing repository changes
 * nothing (RepositoryAlreadyExistsException). So where a pack repository already exists, what was asked
 * (--ecr-encryption, --ecr-kms-key, --ecr-tag-mutability, --ecr-tag) is compared with what it has:
 * - encryption weaker than asked (AES256 where KMS was asked, KMS where KMS_DSSE was), or another KMS key
 *   than --ecr-kms-key: the push is refused (CONFLICT) before anything is written to the repository, since
 *   exit 0 would say the pack is stored under the user's key when it is not;
 * - anything else (stronger encryption, other tag mutability, missing or different resource tags, a key
 *   alias packpub cannot resolve to the key ARN ECR reports): a warning with the pack's result.
 */

/** The settings that differ, as one refusal (thrown) and warnings. */
export interface EcrSettingsCheck {
  refusal?: PackpubError;
  warnings: StoreWarning[];
}

const STRENGTH: Record<string, number> = { AES256: 0, KMS: 1, KMS_DSSE: 2 };

/** True when the repository's settings must be read: something was asked that ECR keeps from creation. */
export function asksRepositorySettings(asked: EcrRepositoryOptions): boolean {
  return asked.encryption !== undefined || asked.kmsKey !== undefined || asked.tagMutability !== undefined || Object.keys(asked.tags ?? {}).length > 0;
}

/** How `asked` (a key id, key ARN, alias name or alias ARN) relates to the key ARN ECR reports: same, other, or unknown (an alias). */
function sameKey(asked: string, found: string): 'same' | 'other' | 'unknown' {
  if (asked === found) return 'same';
  const keyId = (k: string) => /(?:^|:key\/)([0-9a-f-]{36}|mrk-[0-9a-f]{32})$/i.exec(k)?.[1]?.toLowerCase();
  const a = keyId(asked);
  const f = keyId(found);
  if (a !== undefined && f !== undefined) return a === f ? 'same' : 'other';
  if (/(?:^|:)alias\//.test(asked)) return found.endsWith(`:${asked}`) ? 'same' : 'unknown';
  return 'other';
}

/** Compare what was asked with what the existing repository `found` has. `tags`: its resource tags, or why they could not be read. */
export function checkEcrSettings(
  asked: EcrRepositoryOptions,
  found: EcrRepositoryDetails,
  tags: { tags: Record<string, string> } | { error: string } | undefined,
  where: string,
): EcrSettingsCheck {
  const warnings: StoreWarning[] = [];
  const repo = found.name;
  const existed = `the ECR repository ${repo} already existed`;
  const foundType = found.encryptionType ?? 'AES256';
  const keyText = found.kmsKey === undefined ? '' : ` with key ${found.kmsKey}`;
  const recreate = `the pack was not pushed to ${where}; ECR cannot change a repository's encryption: delete and recreate the repository with the encryption asked (aws ecr delete-repository, then push again), or publish under another --registry base path`;

  if (asked.encryption !== undefined) {
    const want = STRENGTH[asked.encryption] ?? 0;
    const has = STRENGTH[foundType] ?? 0;
    if (has < want) {
      return {
        warnings,
        refusal: new PackpubError('CONFLICT', `--ecr-encryption ${asked.encryption} was asked, but ${existed} with ${foundType} encryption${keyText}: refused, nothing pushed to it`, { hint: recreate }),
      };
    }
    if (has > want) {
      warnings.push({
        message: `--ecr-encryption ${asked.encryption} was asked, but ${existed} with ${foundType} encryption${keyText}, which ECR keeps`,
        hint: 'the pack is stored with the repository\'s encryption (stronger than asked); to silence this, ask for it: --ecr-encryption ' + foundType,
      });
    }
  }
  if (asked.kmsKey !== undefined && foundType !== 'AES256') {
    const match = found.kmsKey === undefined ? 'other' : sameKey(asked.kmsKey, found.kmsKey);
    if (match === 'other') {
      return {
        warnings,
        refusal: new PackpubError(
          'CONFLICT',
          `--ecr-kms-key ${asked.kmsKey} was asked, but ${existed} with ${foundType} encryption${found.kmsKey === undefined ? ' and no key of its own (the AWS managed key)' : ` under another key, ${found.kmsKey}`}: refused, nothing pushed to it`,
          { hint: recreate },
        ),
      };
    }
    if (match === 'unknown') {
      warnings.push({
        message: `--ecr-kms-key ${asked.kmsKey} was asked; ${existed} encrypted with ${found.kmsKey ?? 'a key ECR did not name'}, and packpub cannot tell whether the alias names that key`,
        hint: `compare with: aws kms describe-key --key-id ${asked.kmsKey}; or give the key's ARN to --ecr-kms-key`,
      });
    }
  }
  const mutability = found.imageTagMutability ?? 'MUTABLE';
  const askedFilters = [...(asked.tagMutabilityExclusions ?? [])].sort().join(' ');
  const foundFilters = [...(found.tagMutabilityExclusions ?? [])].sort().join(' ');
  // Where the repository's settings let a tag move that the asked ones make immutable, packpub keeps the asked promise
  // itself (EcrStore.refusesReplacingAsAsked): it never replaces such a tag; other publishers can.
  const keeps = asked.tagMutability !== undefined && asked.tagMutability !== 'MUTABLE' && mutability !== 'IMMUTABLE' ? ': packpub never replaces a tag there that the asked settings make immutable, but other publishers can' : '';
  if (asked.tagMutability !== undefined && asked.tagMutability === mutability && askedFilters !== foundFilters) {
    warnings.push({
      message: `--ecr-tag-mutability-exclusion ${askedFilters} was asked, but ${existed} with exclusion filters ${foundFilters === '' ? '(none)' : foundFilters}, which ECR keeps${keeps}`,
      hint: `aws ecr put-image-tag-mutability --repository-name ${repo} --image-tag-mutability ${mutability} --image-tag-mutability-exclusion-filters ${(asked.tagMutabilityExclusions ?? []).map((f) => `filterType=WILDCARD,filter='${f}'`).join(' ')}`,
    });
  }
  if (asked.tagMutability !== undefined && asked.tagMutability !== mutability) {
    warnings.push({
      message: `--ecr-tag-mutability ${asked.tagMutability} was asked, but ${existed} with ${mutability} tags, which ECR keeps${keeps}`,
      hint: `aws ecr put-image-tag-mutability --repository-name ${repo} --image-tag-mutability ${asked.tagMutability}`,
    });
  }
  const wanted = Object.entries(asked.tags ?? {});
  if (wanted.length > 0 && tags !== undefined) {
    if ('error' in tags) {
      warnings.push({
        message: `--ecr-tag was asked, but ${existed} and its resource tags could not be read to check them (${tags.error}); packpub does not change an existing repository's tags`,
        hint: 'allow ecr:ListTagsForResource to have them checked, or tag it: aws ecr tag-resource',
      });
    } else {
      const has = tags.tags;
      const missing = wanted.filter(([k, v]) => has[k] !== v);
      if (missing.length > 0) {
        const shown = missing.map(([k, v]) => (has[k] === undefined ? `${k}=${v} (absent)` : `${k}=${v} (it has ${k}=${has[k]})`)).join(', ');
        warnings.push({
          message: `--ecr-tag was asked, but ${existed} without these resource tags, which packpub does not add to an existing repository: ${shown}`,
          hint: `aws ecr tag-resource --resource-arn ${found.arn ?? `<arn of ${repo}>`} --tags ${missing.map(([k, v]) => `Key=${k},Value=${v}`).join(' ')}`,
        });
      }
    }
  }
  return { warnings };
}
