import { errorMessage, isPackpubError } from '../errors.js';
import { baseRepository, packNameOf } from '../pack/naming.js';
import type { PaletteClient } from '../palette/client.js';
import { connectionMismatch, endpointHasScheme, endpointParts, flavourForHost, includesPacksNamespace, paletteEndpointFor, tlsEnabledOf, trimSlashes } from '../palette/endpoint.js';
import type { PackTarget } from '../targets/open.js';
import {
  lastSyncFailure,
  listSaysSyncOff,
  matchingRegistries,
  paletteProjectProblem,
  paletteRegistrySpec,
  pathInEndpoint,
  registriesOnHost,
  type PaletteRegistryCredentials,
  type PaletteRegistryDetails,
  type PaletteTargetRef,
} from './palette.js';

/*
 * `packpub palette doctor`: the settings Palette needs for a target (palette-api.md 4), checked from
 * packpub's side with the credentials Palette will use, and, with an API key, against the registries
 * Palette already has and Palette's own validation of the settings.
 */

/** Read permissions Palette's IAM user or role needs on ECR (librarium add-oci-packs.md lists the full policy). */
export const PALETTE_ECR_READ_PERMISSIONS = [
  'ecr:GetAuthorizationToken',
  'ecr:DescribeRegistry',
  'ecr:DescribeRepositories',
  'ecr:DescribeImages',
  'ecr:ListImages',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetRepositoryPolicy',
  'ecr:ListTagsForResource',
];

export interface PaletteSettings {
  provider: 'Pack';
  authenticationType: 'Basic' | 'ECR';
  endpoint: string;
  baseContentPath: string;
  sync: 'on';
  tls: string;
  ecr?: {
    credentialOptions: string[];
    iamPermissions: string[];
    /** ECR layers come from S3: airgapped networks must allow this host. */
    s3Endpoint: string;
  };
}

export interface DoctorFinding {
  /** Stable id for scripts: base-path, reachable, credentials, listing, base-repository, palette-access, palette-registry, palette-last-sync, palette-provider, palette-endpoint, palette-auth-type, palette-base-path, palette-sync, palette-project, palette-validate. */
  check: string;
  ok: boolean;
  message: string;
  fix?: string;
}

export interface DoctorReport {
  /** `host/base`. */
  target: string;
  settings: PaletteSettings;
  findings: DoctorFinding[];
  /** Findings that are not ok. */
  problems: number;
  palette?: {
    endpoint: string;
    registries: { uid: string; name: string; flavour?: string; endpoint?: string; baseContentPath?: string; providerType?: string }[];
    validation?: { ok: boolean; message?: string };
  };
}

export interface DoctorOptions {
  target: PaletteTargetRef;
  /** The target opened with the credentials Palette will use, to check the registry from packpub's side. */
  store?: PackTarget;
  /** With an API key: compare with Palette's registries and ask Palette to validate the settings. */
  client?: PaletteClient;
  /** Only this Palette registry (name or uid). */
  registry?: string;
  /** Credentials Palette will use; sent to Palette's validation (never printed). */
  credentials?: PaletteRegistryCredentials;
}

/** The palette-project finding: push --palette-sync's project check on the registry serving the target. */
async function projectCheck(client: PaletteClient, registry: PaletteRegistryDetails): Promise<DoctorFinding> {
  const project = client.projectUid ?? '';
  try {
    const problem = await paletteProjectProblem(client, registry);
    if (problem === undefined) {
      return { check: 'palette-project', ok: true, message: `Palette project ${project} (--palette-project): nothing found that keeps it from showing the packs of registry ${registry.summary.metadata.name}` };
    }
    return { check: 'palette-project', ok: false, message: problem.message, ...(problem.hint === undefined ? {} : { fix: problem.hint }) };
  } catch (err) {
    return { check: 'palette-project', ok: false, message: `checking Palette project ${project} failed: ${errorMessage(err)}`, ...(isPackpubError(err) && err.hint !== undefined ? { fix: err.hint } : {}) };
  }
}

/**
 * The palette-last-sync finding, when the registry serving the target's last sync failed (lastSyncFailure). Doctor said
 * "no problems found", exit 0, for a registry whose every sync failed (credentials Palette stores that expired, a pack
 * it cannot read), while push --palette-sync and palette sync then ended exit 3 on that failure.
 */
function lastSyncFailed(target: PaletteTargetRef, d: PaletteRegistryDetails): DoctorFinding | undefined {
  const failed = lastSyncFailure(d);
  if (failed === undefined) return undefined;
  return {
    check: 'palette-last-sync',
    ok: false,
    message: failed,
    fix: `Palette may not list what is published under ${target.host}/${trimSlashes(target.basePath)} until a sync of it succeeds: fix what the message names (often the credentials Palette stores for the registry, or a pack Palette cannot read), then run packpub palette sync`,
  };
}

export function paletteSettings(target: PaletteTargetRef): PaletteSettings {
  const flavour = flavourForHost(target.host);
  const settings: PaletteSettings = {
    provider: 'Pack',
    authenticationType: flavour === 'ecr' ? 'ECR' : 'Basic',
    endpoint: paletteEndpointFor(target.host, target.plainHttp === true),
    baseContentPath: trimSlashes(target.basePath),
    sync: 'on',
    tls:
      flavour === 'ecr'
        ? 'AWS certificates: nothing to upload'
        : target.plainHttp === true
          ? 'plain HTTP registry: Palette needs HTTPS outside a lab'
          : 'upload the registry CA when its certificate is not from a public CA (or Insecure Skip TLS Verify)',
  };
  if (flavour === 'ecr') {
    const region = /\.dkr[.-]ecr(?:-fips)?\.([^.]+)\./.exec(target.host)?.[1] ?? '<region>';
    settings.ecr = {
      credentialOptions: ['Credentials: access key and secret key of an IAM user', 'STS: an IAM role ARN whose trust policy lets Palette assume it'],
      iamPermissions: PALETTE_ECR_READ_PERMISSIONS,
      s3Endpoint: `prod-${region}-starport-layer-bucket.s3.${region}.amazonaws.com`,
    };
  }
  return settings;
}

/** The findings on one registry of the host; `serving`: the one Pack registry serving the target, when there is one. */
function registryChecks(target: PaletteTargetRef, d: PaletteRegistryDetails, serving?: PaletteRegistryDetails): DoctorFinding[] {
  const name = `${d.summary.metadata.name} (${d.summary.metadata.uid})`;
  const spec = d.record?.spec;
  const base = trimSlashes(target.basePath);
  const out: DoctorFinding[] = [];
  const provider = spec?.providerType ?? d.summary.spec?.providerType ?? 'helm';
  const theirs = trimSlashes(spec?.baseContentPath);
  const inEndpoint = endpointParts(spec?.endpoint ?? d.summary.spec?.endpoint).path;
  // A registry of this host for another base path (a Harbor's Helm charts, another team's packs) is not the target's:
  // named, not failed. Every problem of its own failed doctor (exit 1), with fixes such as changing the provider of a
  // Helm registry that is right as it is. Meant for the target: its base path (with spectro-packs/archive appended, or
  // part of it in the Endpoint) is the target's.
  const meant = trimSlashes(`${inEndpoint}/${theirs.replace(/\/?spectro-packs\/archive$/, '')}`) === base;
  if (!meant) {
    const theirsShown = theirs === '' ? 'none' : theirs;
    if (inEndpoint !== '') return [{ check: 'palette-endpoint', ok: true, message: `Palette registry ${name} on this host has a path in its Endpoint (${inEndpoint}): it serves no target of packpub's (Palette takes the Endpoint as the host)` }];
    if (provider.toLowerCase() === 'pack') return [{ check: 'palette-base-path', ok: true, message: `Palette registry ${name} serves another base path on this host (${theirsShown})` }];
    return [{ check: 'palette-provider', ok: true, message: `Palette registry ${name} on this host has provider ${provider[0]?.toUpperCase()}${provider.slice(1)} and serves another base path (${theirsShown})` }];
  }
  if (provider.toLowerCase() !== 'pack' && serving !== undefined) {
    // Another provider's registry beside the Pack registry that serves the target (Helm charts under the same base path).
    return [{ check: 'palette-provider', ok: true, message: `Palette registry ${name} on this host has provider ${provider[0]?.toUpperCase()}${provider.slice(1)}; the packs come through ${serving.summary.metadata.name} (${serving.summary.metadata.uid}), a Pack registry` }];
  }
  if (provider.toLowerCase() !== 'pack') {
    out.push({
      check: 'palette-provider',
      ok: false,
      message: `Palette registry ${name} on this host has provider ${provider[0]?.toUpperCase()}${provider.slice(1)}; Palette lists packs only from a registry with Provider Pack`,
      fix: 'add a registry with Provider Pack (packpub palette register), or change the provider of this one',
    });
    return out;
  }
  const wantFlavour = flavourForHost(target.host);
  if (d.flavour !== undefined && d.flavour !== wantFlavour) {
    out.push({
      check: 'palette-auth-type',
      ok: false,
      message: `Palette registry ${name} uses authentication type ${d.flavour === 'ecr' ? 'ECR' : 'Basic'}; this host needs ${wantFlavour === 'ecr' ? 'ECR (ECR passwords expire after 12 hours)' : 'Basic'}`,
      fix: `add the registry again with OCI Authentication Type ${wantFlavour === 'ecr' ? 'ECR' : 'Basic'}`,
    });
  }
  if (d.flavour === 'ecr' && endpointHasScheme(spec?.endpoint)) {
    out.push({
      check: 'palette-endpoint',
      ok: false,
      message: `Palette registry ${name} has endpoint ${spec?.endpoint ?? ''}; Palette wants an ECR endpoint without https://`,
      fix: `edit ${d.summary.metadata.name}: Endpoint ${target.host}`,
    });
  }
  if (inEndpoint !== '') {
    // A path in the Endpoint: the registry serves no target (endpointParts); the one meant for this target is a problem.
    const [near] = pathInEndpoint(target, [d]);
    out.push(
      near === undefined
        ? { check: 'palette-endpoint', ok: true, message: `Palette registry ${name} on this host has a path in its Endpoint (${inEndpoint}): it serves no target of packpub's (Palette takes the Endpoint as the host)` }
        : { check: 'palette-endpoint', ok: false, message: near.problem, fix: `edit ${d.summary.metadata.name}: ${near.fix}` },
    );
    return out;
  }
  if (includesPacksNamespace(theirs)) {
    out.push({
      check: 'palette-base-path',
      ok: false,
      message: `Palette registry ${name} has Base Content Path ${theirs}, which includes spectro-packs/archive: Palette looks under <base>/spectro-packs/archive itself`,
      fix: `edit ${d.summary.metadata.name}: Base Content Path ${theirs.replace(/\/?spectro-packs\/archive$/, '') || base}`,
    });
  }
  // A Basic registry says how Palette connects by its endpoint's scheme and by auth.tls.enabled: https:// to a registry
  // that speaks plain HTTP, or http:// to one that speaks HTTPS, and every sync fails, though host and base path match.
  // Which of the two Palette follows is not documented: when they disagree, a note, not a failure (connectionMismatch).
  const mismatch = d.flavour === 'ecr' || theirs !== base ? undefined : connectionMismatch(spec?.endpoint, tlsEnabledOf(spec), target.host, target.plainHttp === true);
  if (mismatch?.fails === true) {
    out.push({
      check: 'palette-endpoint',
      ok: false,
      message: `Palette registry ${name} ${mismatch.says}, but ${target.host} speaks ${mismatch.speaks}: Palette's sync cannot read it`,
      fix: `edit ${d.summary.metadata.name}: ${mismatch.fix}`,
    });
  } else if (mismatch !== undefined) {
    out.push({
      check: 'palette-endpoint',
      ok: true,
      message: `Palette registry ${name} ${mismatch.says}, and ${target.host} speaks ${mismatch.speaks}: the two disagree, and which one Palette's sync follows is not documented; make both say ${mismatch.speaks} (edit ${d.summary.metadata.name}: ${mismatch.fix})`,
    });
  }
  // A Basic registry's API base path (spec.basePath, "OCI registry api base path"; Terraform's endpoint_suffix, given for
  // JFrog): Palette reads the registry's OCI API under it, not at the host's /v2/, where packpub publishes. Such a
  // registry matched the target, and its sync read another tree than packpub wrote (or none); doctor said nothing of it.
  // (One that is not text, from an odd Palette, tells nothing: it crashed doctor, "replace is not a function".)
  const said: unknown = (spec as { basePath?: unknown } | undefined)?.basePath;
  const apiPath = d.flavour === 'ecr' || typeof said !== 'string' ? '' : trimSlashes(said);
  if (apiPath !== '' && theirs === base) {
    out.push({
      check: 'palette-endpoint',
      ok: false,
      message: `Palette registry ${name} has an API base path (basePath ${apiPath}): Palette reads the registry's OCI API under ${target.host}/${apiPath}/v2/, while packpub publishes through ${target.host}/v2/`,
      fix: `edit ${d.summary.metadata.name}: clear its API base path (Terraform's endpoint_suffix), or publish to the registry its API base path serves`,
    });
  }
  if (spec?.isSyncSupported === false && theirs === base) {
    out.push({ check: 'palette-sync', ok: false, message: `Palette registry ${name} has sync off`, fix: `edit ${d.summary.metadata.name}: turn sync on (Pack registries need it)` });
  }
  return out;
}

/** The registry read as Palette will read it; `noCredential`: no credential was given for Palette (it gets none). */
async function registrySideChecks(target: PaletteTargetRef, store: PackTarget, noCredential = false): Promise<DoctorFinding[]> {
  const out: DoctorFinding[] = [];
  const where = `${target.host}/${trimSlashes(target.basePath)}`;
  let repositories: string[];
  try {
    repositories = await store.store.listRepositories(trimSlashes(target.basePath));
  } catch (err) {
    const code = isPackpubError(err) ? err.code : 'INTERNAL';
    const hint = isPackpubError(err) ? err.hint : undefined;
    if (code === 'NETWORK' || code === 'TLS') {
      out.push({ check: 'reachable', ok: false, message: `cannot reach ${target.host}: ${errorMessage(err)}`, ...(hint === undefined ? {} : { fix: hint }) });
    } else if (code === 'AUTH' || code === 'CREDENTIALS') {
      out.push({ check: 'reachable', ok: true, message: `${target.host} answers` });
      // No credential given for Palette (packpub's own login is never handed over): what the registry refuses is
      // reading without one, and the fix is to give one, not to change the rights of an account never tried.
      if (noCredential && store.store.kind !== 'ecr') {
        out.push({
          check: 'credentials',
          ok: false,
          message: `${target.host} refuses to list the packs under ${where} without credentials, as Palette would read it (none was given for Palette): ${errorMessage(err)}`,
          fix: `give Palette's own credential (a robot or user with pull and list-repository rights): -u USER --password-stdin, PACKPUB_USERNAME / PACKPUB_PASSWORD, or the target's auth in packpub.yaml`,
        });
        return out;
      }
      // ECR: the listing ran as packpub's own AWS identity; Palette reads with the IAM user or role it is given
      // (PACKPUB_PALETTE_ECR_*, --palette-ecr-role-arn), which palette-validate checks. Told as Palette's, the fix
      // sent users to change an identity that was never tried.
      out.push({
        check: 'credentials',
        ok: false,
        message:
          store.store.kind === 'ecr'
            ? `packpub's AWS identity cannot list the packs under ${where} (Palette reads them with its own IAM user or role, which palette-validate checks): ${errorMessage(err)}`
            : `the credentials Palette would use cannot list the packs under ${where}: ${errorMessage(err)}`,
        fix:
          store.store.kind === 'harbor'
            ? `give the robot account (or user) pull and list-repository permissions on Harbor project ${trimSlashes(target.basePath).split('/')[0] ?? ''}; Harbor robots cannot use /v2/_catalog`
            : store.store.kind === 'ecr'
              ? `allow ${PALETTE_ECR_READ_PERMISSIONS.join(', ')} for the AWS identity packpub runs as (AWS_PROFILE / --aws-profile, --aws-role-arn), to check the registry from this side; Palette's own identity needs them too`
              : (hint ?? 'give the account read and catalog permissions on the registry'),
      });
    } else {
      out.push({ check: 'reachable', ok: true, message: `${target.host} answers` });
      out.push({ check: 'listing', ok: false, message: `listing ${where} failed: ${errorMessage(err)}`, ...(hint === undefined ? {} : { fix: hint }) });
    }
    return out;
  }
  out.push({ check: 'reachable', ok: true, message: `${target.host} answers` });
  out.push({
    check: 'credentials',
    ok: true,
    // Without a credential for Palette the listing was anonymous, as Palette's sync would read it: say that, not "the credentials".
    message: noCredential && store.store.kind !== 'ecr' ? `${target.host} lets anyone list repositories under ${where} (no credential was given for Palette: it reads anonymously)` : `the credentials can list repositories under ${where}`,
  });
  const base = baseRepository(trimSlashes(target.basePath));
  // A repository nested deeper than <base>/spectro-packs/archive/<name> holds no pack Palette lists: not counted.
  const packs = repositories.filter((r) => !(packNameOf(trimSlashes(target.basePath), r) ?? '/').includes('/'));
  if (repositories.includes(base) || packs.length > 0) {
    out.push({ check: 'base-repository', ok: true, message: `${target.host}/${base} exists (${packs.length} pack ${packs.length === 1 ? 'repository' : 'repositories'} below it)` });
  } else {
    out.push({
      check: 'base-repository',
      ok: false,
      message: `${target.host}/${base} does not exist: Palette finds nothing to sync`,
      fix: `publish a pack there first: packpub push <pack> --registry ${where}`,
    });
  }
  return out;
}

export async function paletteDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const target = options.target;
  const base = trimSlashes(target.basePath);
  const findings: DoctorFinding[] = [];
  if (base === '') {
    findings.push({ check: 'base-path', ok: false, message: `${target.host} has no base path; Palette needs a Base Content Path for a Pack registry with sync on`, fix: `publish under a base path, e.g. --registry ${target.host}/spectro-oci-registry` });
  } else if (includesPacksNamespace(base)) {
    findings.push({
      check: 'base-path',
      ok: false,
      message: `the base path ${base} ends with spectro-packs/archive, which packpub and Palette add themselves`,
      fix: `use --registry ${target.host}/${base.replace(/\/?spectro-packs\/archive$/, '') || 'BASE'}`,
    });
  } else {
    findings.push({ check: 'base-path', ok: true, message: `Base Content Path ${base}` });
  }
  if (options.store !== undefined) findings.push(...(await registrySideChecks(target, options.store, options.credentials?.kind === 'none')));

  let palette: DoctorReport['palette'];
  if (options.client !== undefined) {
    const client = options.client;
    palette = { endpoint: client.baseUrl.origin, registries: [] };
    let details: PaletteRegistryDetails[] | undefined;
    try {
      details = await registriesOnHost(client, target);
    } catch (err) {
      findings.push({ check: 'palette-access', ok: false, message: errorMessage(err), ...(isPackpubError(err) && err.hint !== undefined ? { fix: err.hint } : {}) });
    }
    if (details !== undefined) {
      const onHost = details;
      if (options.registry !== undefined) details = details.filter((d) => d.summary.metadata.uid === options.registry || d.summary.metadata.name === options.registry);
      palette.registries = details.map((d) => ({
        uid: d.summary.metadata.uid,
        name: d.summary.metadata.name,
        ...(d.flavour === undefined ? {} : { flavour: d.flavour }),
        ...(d.record?.spec.endpoint === undefined ? {} : { endpoint: d.record.spec.endpoint }),
        baseContentPath: trimSlashes(d.record?.spec.baseContentPath),
        providerType: d.record?.spec.providerType ?? d.summary.spec?.providerType ?? '',
      }));
      const serving = matchingRegistries(target, details);
      for (const d of details) findings.push(...registryChecks(target, d, serving.length === 1 ? serving[0] : undefined));
      if (serving.length === 1) {
        const d = serving[0] as PaletteRegistryDetails;
        findings.push({ check: 'palette-registry', ok: true, message: `Palette registry ${d.summary.metadata.name} (${d.summary.metadata.uid}) serves ${target.host}/${base}` });
        const lastSync = lastSyncFailed(target, d);
        if (lastSync !== undefined) findings.push(lastSync);
        // Settings on, sync status off: push --palette-sync refuses it before publishing, palette sync ends exit 3.
        if (listSaysSyncOff(d)) {
          findings.push({
            check: 'palette-sync',
            ok: false,
            message: `Palette's sync status of registry ${d.summary.metadata.name} (${d.summary.metadata.uid}) says sync is off (isSyncSupported false), though its settings say on: Palette lists no pack from it`,
            fix: `edit ${d.summary.metadata.name} in Palette and save it with sync on, or sync it there; then run doctor again`,
          });
        }
        // With a project: what push --palette-sync checks before publishing. Doctor said all was well where push then
        // refused the project (exit 2): the project was not looked at.
        if (client.projectUid !== undefined) findings.push(await projectCheck(client, d));
      } else if (serving.length === 0) {
        // The registry chosen (--palette-registry, palette.registry) does not serve the target: say so, and which does.
        // "No Pack registry serves", fix "run packpub palette register", sent users to add one beside the one serving it.
        const others = options.registry === undefined ? [] : matchingRegistries(target, onHost);
        const named = others.map((d) => `${d.summary.metadata.name} (${d.summary.metadata.uid})`).join(', ');
        findings.push(
          options.registry === undefined
            ? { check: 'palette-registry', ok: false, message: `no Pack registry in Palette serves ${target.host}/${base}`, fix: 'run packpub palette register, or add it under Tenant Settings > Registries > OCI Registries with the settings above' }
            : {
                check: 'palette-registry',
                ok: false,
                message: `Palette registry "${options.registry}" (--palette-registry or palette.registry) does not serve ${target.host}/${base}${others.length === 0 ? '' : `; ${named} ${others.length === 1 ? 'does' : 'do'}`}`,
                fix:
                  others.length === 0
                    ? 'leave --palette-registry out, and run packpub palette register, or add the registry under Tenant Settings > Registries > OCI Registries with the settings above'
                    : `give --palette-registry (or palette.registry) ${others.length === 1 ? (others[0] as PaletteRegistryDetails).summary.metadata.uid : 'the uid of one of them'}, or leave it out`,
              },
        );
      } else {
        findings.push({
          check: 'palette-registry',
          ok: false,
          message: `${serving.length} Pack registries in Palette serve ${target.host}/${base}: ${serving.map((d) => d.summary.metadata.name).join(', ')}`,
          fix: 'remove the extra ones, or pass --palette-registry NAME|UID to sync',
        });
      }
    }
    // Palette refused or did not answer its first call (palette-access): asking it to validate would fail the same way.
    if (details !== undefined && options.credentials !== undefined && base !== '' && !includesPacksNamespace(base)) {
      try {
        const { flavour, spec } = paletteRegistrySpec(target, { credentials: options.credentials });
        await client.validateRegistry(flavour, spec);
        palette.validation = { ok: true };
        findings.push({ check: 'palette-validate', ok: true, message: 'Palette reached the registry with these settings and credentials' });
      } catch (err) {
        palette.validation = { ok: false, message: errorMessage(err) };
        findings.push({
          check: 'palette-validate',
          ok: false,
          message: `Palette's own check of the settings failed: ${errorMessage(err)}`,
          fix: 'fix the credentials or permissions Palette uses (see the findings above), then run doctor again',
        });
      }
    }
  }
  return {
    target: `${target.host}/${base}`,
    settings: paletteSettings(target),
    findings,
    problems: findings.filter((f) => !f.ok).length,
    ...(palette === undefined ? {} : { palette }),
  };
}
