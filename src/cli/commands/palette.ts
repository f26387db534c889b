import { PackpubError } from '../../errors.js';
import type { PackRef } from '../../oci/reference.js';
import type { PackValuesKind, PaletteRegistryCredentials } from '../../operations/palette.js';
import type { Args, CliContext, CommandSpec } from '../context.js';
import { EXIT_FAILURE, EXIT_NOT_VISIBLE, EXIT_OK, printable, renderError, writeLine } from '../io.js';
import { PALETTE_GROUP, paletteFlags } from '../palette-flags.js';
import type { PaletteTarget } from '../palette-options.js';
import type { PaletteErrorJson, PaletteRunJson } from '../palette-run.js';
import { declareFlags, declareOwnFlags, READ_GROUPS, type OwnFlags } from '../target-flags.js';

/** Environment variables with the AWS credentials Palette stores for an ECR registry (never packpub's own). */
export const PALETTE_ECR_ENV = { accessKey: 'PACKPUB_PALETTE_ECR_ACCESS_KEY_ID', secretKey: 'PACKPUB_PALETTE_ECR_SECRET_ACCESS_KEY' } as const;

/** The credentials Palette will use for the target: the target's own for Basic; for ECR an IAM user or role given for Palette. */
async function paletteCredentials(args: Args, ctx: CliContext, target: PaletteTarget): Promise<PaletteRegistryCredentials | undefined> {
  const [{ flavourForHost }, { registerSecret }] = await Promise.all([import('../../palette/endpoint.js'), import('../../util/redact.js')]);
  const env = ctx.io.env;
  if (flavourForHost(target.ref.host) === 'ecr') {
    const roleArn = args['paletteEcrRoleArn'] as string | undefined;
    if (roleArn !== undefined) {
      const externalId = args['paletteEcrExternalId'] as string | undefined;
      return { kind: 'ecr-sts', roleArn, ...(externalId === undefined ? {} : { externalId }) };
    }
    // Half of the pair is refused (naming the missing variable): Palette would get no credentials instead.
    const { envPair } = await import('../../credentials/env.js');
    const keys = envPair(env, PALETTE_ECR_ENV.accessKey, PALETTE_ECR_ENV.secretKey, 'or give Palette a role with --palette-ecr-role-arn');
    if (keys === undefined) return undefined;
    registerSecret(keys[1]);
    return { kind: 'ecr-secret', accessKey: keys[0], secretKey: keys[1] };
  }
  // Only a credential given for Palette: flags, PACKPUB_USERNAME / PACKPUB_PASSWORD, the target's auth in packpub.yaml
  // (or a library caller's provider). The Docker config's (a `docker login` or `packpub login` of this machine, a
  // credential helper's: packpub's own, often able to push, or a person's) was handed to Palette too, which stores it
  // and syncs with it from then on, while the README names only the three above.
  const { envCredential } = await import('../../credentials/env.js');
  const given = target.options.credentials === undefined ? (target.options.login ?? envCredential(env) ?? target.options.fileLogin) : await target.options.credentials.resolve(target.ref.host);
  if (given?.username !== undefined && given.password !== undefined) {
    registerSecret(given.password);
    return { kind: 'basic', username: given.username, password: given.password };
  }
  if (given === undefined) {
    const { targetCredentialChain } = await import('../../targets/credential-chain.js');
    const own = await targetCredentialChain(target.options).resolve(target.ref.host);
    if (own?.source !== undefined && own.source !== 'anonymous') {
      writeLine(
        ctx.io.stderr,
        `note: no credential given for Palette, so it is asked to read ${target.ref.host} without one; the one ${printable(own.source)} holds is packpub's own and is not handed to Palette: give Palette's (a robot that can pull) with -u USER --password-stdin, PACKPUB_USERNAME / PACKPUB_PASSWORD or the target's auth in packpub.yaml`,
      );
    }
  }
  return { kind: 'none' };
}

function oneTarget(targets: PaletteTarget[]): PaletteTarget {
  if (targets.length !== 1) {
    throw new PackpubError('USAGE', `palette doctor and register work on one target, got ${targets.length}`, { hint: 'run once per target' });
  }
  return targets[0] as PaletteTarget;
}

async function doctor(args: Args, ctx: CliContext, target: PaletteTarget): Promise<number> {
  const [{ paletteDoctor }, { openTarget }, { paletteClient, paletteRunSettings }] = await Promise.all([
    import('../../operations/palette-doctor.js'),
    import('../../targets/open.js'),
    import('../palette-options.js'),
  ]);
  const client = await paletteClient(args, ctx, target.config, false, target.where);
  let store: Awaited<ReturnType<typeof openTarget>> | undefined;
  try {
    const credentials = await paletteCredentials(args, ctx, target);
    // A Basic registry is checked with what Palette will be given, not with packpub's own login (the Docker config).
    const { chainProviders, staticProvider } = await import('../../credentials/chain.js');
    const given = credentials?.kind === 'basic' ? staticProvider('the credentials given for Palette', { username: credentials.username, password: credentials.password }) : undefined;
    const checkedWith = credentials?.kind === 'none' ? chainProviders() : given;
    store = await openTarget(checkedWith === undefined || target.options.credentials !== undefined ? target.options : { ...target.options, credentials: checkedWith });
    const registry = paletteRunSettings(args, target.config).registry;
    const report = await paletteDoctor({
      target: target.ref,
      store,
      ...(client === undefined ? {} : { client }),
      ...(registry === undefined ? {} : { registry }),
      ...(credentials === undefined ? {} : { credentials }),
    });
    // In GitHub Actions, each check that failed is an annotation (--json or not).
    if (report.problems > 0 && ctx.io.env['GITHUB_ACTIONS'] === 'true') {
      const { paletteCheckAnnotations } = await import('../ci-output/github.js');
      const failed = report.findings.filter((f) => !f.ok).map((f) => ({ message: printable(`${f.check}: ${f.message}`), ...(f.fix === undefined ? {} : { fix: printable(f.fix) }) }));
      for (const line of paletteCheckAnnotations('doctor', failed)) writeLine(ctx.io.stderr, line);
    }
    if (args['json'] === true) {
      writeLine(ctx.io.stdout, JSON.stringify(report, null, 2));
      return report.problems === 0 ? EXIT_OK : EXIT_FAILURE;
    }
    const s = report.settings;
    const out = (line: string) => writeLine(ctx.io.stdout, line);
    out(`Palette settings for ${report.target} (Tenant Settings > Registries > OCI Registries > Add New OCI Registry):`);
    out(`  Provider                 ${s.provider}`);
    out(`  OCI Authentication Type  ${s.authenticationType}`);
    out(`  Endpoint                 ${s.endpoint}`);
    out(`  Base Content Path        ${s.baseContentPath === '' ? '(none: publish under a base path)' : s.baseContentPath}`);
    out(`  Sync                     ${s.sync}`);
    out(`  TLS                      ${s.tls}`);
    if (s.ecr !== undefined) {
      out(`  AWS authentication       ${s.ecr.credentialOptions.join('; or ')}`);
      out(`  IAM permissions          ${s.ecr.iamPermissions.join(', ')}`);
      out(`  Airgapped networks       allow ${s.ecr.s3Endpoint} (ECR layers come from S3)`);
    }
    const keyVariable = target.config?.apiKeyEnv ?? 'SPECTROCLOUD_APIKEY';
    if (client === undefined) out(`(set ${keyVariable} or --palette-api-key-stdin to compare with Palette's registries and let Palette validate the settings)`);
    out('');
    out('Checks:');
    for (const f of report.findings) {
      // Findings quote Palette and the registry (names, endpoints, their messages): shown, never obeyed.
      out(`  ${f.ok ? 'ok  ' : 'FAIL'}  ${f.check}: ${printable(f.message)}`);
      if (!f.ok && f.fix !== undefined) out(`        fix: ${printable(f.fix)}`);
    }
    out('');
    out(report.problems === 0 ? 'no problems found' : `${report.problems} problem${report.problems === 1 ? '' : 's'} found`);
    return report.problems === 0 ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await store?.store.close();
    await client?.close();
  }
}

async function register(args: Args, ctx: CliContext, target: PaletteTarget): Promise<number> {
  const [{ registerPaletteRegistry }, { paletteClient }] = await Promise.all([import('../../operations/palette.js'), import('../palette-options.js')]);
  const client = (await paletteClient(args, ctx, target.config, true, target.where)) as NonNullable<Awaited<ReturnType<typeof paletteClient>>>;
  try {
    const credentials = await paletteCredentials(args, ctx, target);
    if (credentials === undefined) {
      throw new PackpubError('USAGE', `${target.ref.host} is an ECR registry: Palette needs its own AWS credentials to read it`, {
        hint: `set ${PALETTE_ECR_ENV.accessKey} and ${PALETTE_ECR_ENV.secretKey} (an IAM user with ECR read permissions), or pass --palette-ecr-role-arn`,
      });
    }
    const name = args['paletteRegistryName'] as string | undefined;
    const result = await registerPaletteRegistry(client, target.ref, { credentials, ...(name === undefined ? {} : { name }) });
    if (args['json'] === true) writeLine(ctx.io.stdout, JSON.stringify(result, null, 2));
    else if (result.status === 'created') {
      writeLine(ctx.io.stdout, `created Palette registry ${printable(result.registry.name)} (${printable(result.registry.uid)}) for ${target.ref.host}/${target.ref.basePath}; Palette validated the settings`);
    } else if ((result.problems ?? []).length > 0) {
      writeLine(ctx.io.stdout, `Palette registry ${printable(result.registry.name)} (${printable(result.registry.uid)}) is registered for ${target.ref.host}/${target.ref.basePath} but cannot sync it as it is: nothing created`);
    } else {
      writeLine(ctx.io.stdout, `Palette registry ${printable(result.registry.name)} (${printable(result.registry.uid)}) already serves ${target.ref.host}/${target.ref.basePath}: nothing created`);
    }
    // A registry found that cannot sync the target as it is: what was asked (Palette syncing it) is not done.
    const says = (kind: string, text: string) => writeLine(ctx.io.stderr, `${kind}: ${printable(text)}${text.includes('packpub palette') ? '' : '; edit it in Palette (packpub palette doctor checks it)'}`);
    for (const problem of result.problems ?? []) says('error', problem);
    for (const warning of result.warnings ?? []) says('warning', warning);
    if (((result.problems ?? []).length > 0 || (result.warnings ?? []).length > 0) && ctx.io.env['GITHUB_ACTIONS'] === 'true') {
      const { paletteCheckAnnotations } = await import('../ci-output/github.js');
      const lines = paletteCheckAnnotations('register', (result.problems ?? []).map((p) => ({ message: printable(p) })), (result.warnings ?? []).map((w) => printable(w)));
      for (const line of lines) writeLine(ctx.io.stderr, line);
    }
    return (result.problems ?? []).length === 0 ? EXIT_OK : EXIT_FAILURE;
  } finally {
    await client.close();
  }
}

async function sync(args: Args, ctx: CliContext, resolveTargets: () => Promise<PaletteTarget[]>): Promise<number> {
  const started = new Date();
  const junit = args['junit'] === undefined ? undefined : String(args['junit']);
  const ci = await import('../ci-output/index.js');
  // The file is checked (and marked unfinished) before anything is read; an error ending the run writes what it can:
  // the Palette suite once a sync was asked for (PaletteSyncStopped's targets), else one error case.
  let stopped: PaletteRunJson | PaletteErrorJson | undefined;
  try {
    if (junit !== undefined) await ci.checkJunitPath(ctx.io, junit);
    // Inside: a target refused (an unknown --target, a registry Palette cannot use) gets its refusal case too.
    const result = await syncAndConfirm(args, ctx, await resolveTargets(), (json) => (stopped = json));
    // The sync is done: a report that cannot be written now (a full disk) fails the run, exit 1 as push and validate
    // (it was exit 2, a usage error, "nothing was attempted", after Palette had synced and listed the packs).
    const lost = await ci.writePaletteSyncOutputs(ctx.io, junit, result, started).then(
      () => false,
      (err: unknown) => {
        renderError(ctx.io, err, false);
        return true;
      },
    );
    if (lost) return EXIT_FAILURE;
    return result.status === 'visible' ? EXIT_OK : EXIT_NOT_VISIBLE;
  } catch (err) {
    if (stopped !== undefined) await ci.writePaletteSyncOutputs(ctx.io, junit, stopped, started).catch(() => undefined);
    else await ci.reportRefusal(ctx.io, 'palette sync', junit, err, started);
    throw err;
  }
}

/** palette sync's work: read the targets, sync, confirm; prints the result; `onStopped`: the JSON of an error after a sync was asked for. */
async function syncAndConfirm(args: Args, ctx: CliContext, targets: PaletteTarget[], onStopped: (json: PaletteErrorJson) => void): Promise<PaletteRunJson> {
  const [{ runPaletteSyncs, paletteErrorJson }, { listPacks, cosignAttachment, refusedByPolicy, NOT_SERVED }, { heldManifest }, { openTarget }, { parsePackRef }, { packRepository }, { mapConcurrent }, { retryFlags }] = await Promise.all([
    import('../palette-run.js'),
    import('../../operations/list.js'),
    import('../../operations/resolve-pack.js'),
    import('../../targets/open.js'),
    import('../../oci/reference.js'),
    import('../../pack/naming.js'),
    import('../../util/concurrency.js'),
    import('../target-options.js'),
  ]);
  const refs = ((args['packs'] as string[] | undefined) ?? []).map(String);
  const named = refs.map((r) => parsePackRef(r));
  // Palette lists a pack as one repository directly below spectro-packs/archive (packpub's pack names are one path
  // component): a name with a "/" would only be waited for until --palette-timeout, then called refused.
  for (const { name } of named) {
    if (!name.includes('/')) continue;
    throw new PackpubError('USAGE', `pack name "${name}" holds "/": Palette lists a pack as one repository directly below spectro-packs/archive, named as its pack.json name is (one path component)`, {
      hint: 'name packs as packpub list shows them; a repository nested deeper holds no pack Palette lists',
    });
  }
  const items = [];
  // Every target is read before Palette is asked for anything: a version missing on any of them syncs nothing.
  for (const target of targets) {
    let packs: { name: string; version: string }[];
    // Versions the registry refuses to serve (a project policy: Harbor serving only signed artifacts, 412): Palette
    // is refused them too. They are synced and looked for with the others, not waited for, and reported with why.
    const unreadable = new Map<string, string>();
    const refused = (name: string, version: string, err: unknown): boolean => {
      if (!refusedByPolicy(err)) return false;
      unreadable.set(`${name}:${version}`, `${(err as Error).message}; Palette reads the registry as packpub does: sign the version (cosign) or ask a project admin to relax the policy`);
      return true;
    };
    const opened = await openTarget(target.options);
    try {
      if (named.length > 0) {
        // A version the target does not hold would only be waited for, then reported as one Palette may
        // have refused: refused here, before any sync, naming each missing one.
        packs = named;
        const held = await mapConcurrent(packs, 8, (p) =>
          opened.store.getManifest(packRepository(opened.basePath, p.name), p.version).catch((err: unknown) => {
            if (refused(p.name, p.version, err)) return 'refused' as const;
            throw err;
          }),
        );
        const reference = (p: { name: string; version: string }) => opened.store.reference(packRepository(opened.basePath, p.name), p.version);
        const missing = packs.filter((_, i) => held[i] === undefined).map(reference);
        if (missing.length > 0) {
          const one = missing.length === 1;
          throw new PackpubError('NOT_FOUND', `${missing.join(', ')} ${one ? 'does' : 'do'} not exist: nothing was synced`, {
            hint: `palette sync confirms versions already published: push ${one ? 'it' : 'them'} first, or see what is published with packpub list`,
          });
        }
        // A tag that holds no pack (a cosign signature, an image) Palette never lists: it would be waited for until --palette-timeout.
        const notPacks = packs.flatMap((p, i) => {
          const fetched = held[i];
          const notPack = fetched === undefined || fetched === 'refused' ? undefined : heldManifest(fetched.bytes, p.version).notPack;
          return notPack === undefined ? [] : [{ ref: reference(p), notPack }];
        });
        const [onlyOne] = notPacks;
        if (notPacks.length > 0) {
          const message = notPacks.length === 1 ? `${onlyOne?.ref ?? ''} is not a pack (${onlyOne?.notPack ?? ''}): Palette never lists it; nothing was synced` : `${notPacks.map((n) => `${n.ref} is not a pack (${n.notPack})`).join(', ')}: Palette never lists them; nothing was synced`;
          throw new PackpubError('REGISTRY', message, {
            hint: 'name pack versions only; packpub list shows what each tag holds',
          });
        }
      } else {
        // Every pack version under the base path: each manifest read (list's bounds), so that tags holding no pack
        // (cosign's signatures, an image), which Palette never lists, are not waited for until --palette-timeout.
        const delay = retryFlags(args)?.initialDelayMs;
        const left: string[] = [];
        // cosign's tags are known by name, and not read: a Harbor project that serves only signed artifacts refuses
        // reading an attestation (412), which would stop the run.
        const readTag = (tag: string) => cosignAttachment(tag) === undefined;
        const listed = await listPacks(opened, {
          readTag,
          onRefused: (v, err) => refused(v.name, v.version, err),
          ...(delay === undefined ? {} : { rereadDelayMs: delay }),
        });
        packs = listed.flatMap((p) =>
          p.versions.flatMap((v) => {
            // A tag listed but not served (no digest) stays: Palette cannot list it either, and the report says so
            // once the other versions are confirmed, not at --palette-timeout.
            if (v.notPack === NOT_SERVED) unreadable.set(`${p.name}:${v.version}`, `${NOT_SERVED} by ${opened.store.location} (404, also when read again after a pause), so Palette cannot read it either; push the version again, or check the registry's replication or cache`);
            // A repository nested below spectro-packs/archive (another tool's): Palette lists no pack from it.
            const notPack = p.name.includes('/') ? "a repository nested below spectro-packs/archive: no pack's" : (cosignAttachment(v.version) ?? (v.digest === undefined ? undefined : v.notPack));
            if (notPack === undefined) return [{ name: p.name, version: v.version }];
            left.push(`${p.name}:${v.version} (${notPack})`);
            return [];
          }),
        );
        if (left.length > 0) {
          const shown = left.length > 5 ? `${left.slice(0, 5).join(', ')} and ${left.length - 5} more` : left.join(', ');
          writeLine(ctx.io.stderr, `note: palette sync leaves out ${left.length} tag(s) under ${opened.display} that hold no pack, which Palette never lists: ${shown}`);
        }
      }
    } finally {
      await opened.store.close();
    }
    items.push({ target, packs, force: args['forceSync'] === true, ...(unreadable.size === 0 ? {} : { unreadable }), publishedValues: (ref: PackRef, signal: AbortSignal) => publishedValuesOf(target, ref, signal) });
  }
  const json = args['json'] === true;
  // Once a sync was asked for, an error ending the run (Palette failing through the retries of a poll) leaves the
  // targets done before it, and what it stopped, in the JSON printed with the error.
  const done: PaletteRunJson['targets'] = [];
  const result = await runPaletteSyncs(args, ctx, items, json, 'sync', done).catch((err: unknown) => {
    if (done.length > 0) {
      const stopped = paletteErrorJson(err, done);
      onStopped(stopped);
      if (json) writeLine(ctx.io.stdout, JSON.stringify(stopped, null, 2));
    }
    throw err;
  });
  if (json) writeLine(ctx.io.stdout, JSON.stringify(result, null, 2));
  if (result.status !== 'visible') {
    const { inGitHubActions, paletteSyncAnnotations } = await import('../ci-output/github.js');
    if (inGitHubActions(ctx.io.env)) for (const line of paletteSyncAnnotations(result)) writeLine(ctx.io.stderr, line);
  }
  return result;
}

/**
 * What the values.yaml published as `ref` on the target holds, read from its archive (pulled by pull's rules, digests
 * verified, into a work folder removed after): asked only for a version Palette lists with empty values. Undefined
 * when it cannot be read (the check then takes Palette's answer as it is). `signal` (the rest of --palette-timeout, the
 * interrupt) gives the pull up at once, requests in flight included.
 */
async function publishedValuesOf(target: PaletteTarget, ref: PackRef, signal: AbortSignal): Promise<PackValuesKind | undefined> {
  const [{ pullPack }, { valuesKindOf }, { createWorkDir }, { openTarget }, { readFile, rm }, { join }] = await Promise.all([
    import('../../operations/pull.js'),
    import('../../operations/palette.js'),
    import('../../operations/work-dir.js'),
    import('../../targets/open.js'),
    import('node:fs/promises'),
    import('node:path'),
  ]);
  const work = await createWorkDir();
  try {
    const opened = await openTarget(target.options);
    try {
      const pulled = await pullPack(opened, ref, { outDir: join(work, 'pack'), signal });
      const text = await readFile(join(pulled.path, 'values.yaml'), 'utf8').catch(() => undefined);
      return text === undefined ? undefined : await valuesKindOf(text);
    } finally {
      await opened.store.close();
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Flags of one action given to another would be ignored: the run would do less than the line says. */
function refuseFlagsOfOtherActions(args: Args, action: string): void {
  const only: [string, string, string[]][] = [
    ['forceSync', '--force-sync', ['sync']],
    // doctor and register wait for no sync: their calls are bounded by --request-timeout and the retries.
    ['paletteTimeout', '--palette-timeout', ['sync']],
    ['palettePollInterval', '--palette-poll-interval', ['sync']],
    ['junit', '--junit', ['sync']],
    ['paletteRegistryName', '--palette-registry-name', ['register']],
    ['paletteEcrRoleArn', '--palette-ecr-role-arn', ['register', 'doctor']],
    ['paletteEcrExternalId', '--palette-ecr-external-id', ['register', 'doctor']],
    // register creates the registry; choosing an existing one is for sync and doctor.
    ['paletteRegistry', '--palette-registry', ['sync', 'doctor']],
    // Registries belong to the tenant: register looks at no project.
    ['paletteProject', '--palette-project', ['sync', 'doctor']],
  ];
  for (const [key, flag, actions] of only) {
    if (args[key] === undefined || args[key] === false || actions.includes(action)) continue;
    throw new PackpubError('USAGE', `${flag} applies to palette ${actions.join(' and ')}, not palette ${action}: it would be ignored`, {
      hint: `drop ${flag}, or run palette ${actions[0] ?? 'sync'}`,
    });
  }
  if (args['paletteEcrExternalId'] !== undefined && args['paletteEcrRoleArn'] === undefined) {
    throw new PackpubError('USAGE', '--palette-ecr-external-id needs --palette-ecr-role-arn: without a role it would be ignored', {
      hint: 'give the role Palette assumes with --palette-ecr-role-arn, or drop the external id',
    });
  }
}

const PALETTE_COMMAND_FLAGS: OwnFlags = {
  group: PALETTE_GROUP,
  positionals: {
    action: {
      type: 'string',
      choices: ['doctor', 'register', 'sync'],
      describe: `What to do. Every action sends Palette the API key. register (which Palette stores) and doctor (which Palette validates) also send the credential Palette is to read the registry with, and only one given for Palette: -u with --password-stdin, PACKPUB_USERNAME / PACKPUB_PASSWORD or the target's auth in packpub.yaml; for ECR ${PALETTE_ECR_ENV.accessKey} / ${PALETTE_ECR_ENV.secretKey} or --palette-ecr-role-arn. packpub's own logins (packpub login, the Docker config, credential helpers, its AWS identity) never go to Palette; none given, Palette is asked to read the registry without credentials (a note says so when packpub has a login of its own for it). sync sends no registry credential`,
    },
    packs: {
      type: 'string',
      array: true,
      describe:
        'sync: NAME:VERSION already published, to confirm (default: every pack version under the base path; tags holding no pack, and repositories nested below spectro-packs/archive, left out). A version the registry refuses to serve (412), or by default one it lists without serving, is not waited for: NOT VISIBLE, with why, once the others are confirmed',
    },
  },
  options: {
    'force-sync': { type: 'boolean', default: false, describe: 'sync: send forceSync=true (after replacing a version)' },
    junit: { type: 'string', describe: "sync: write a JUnit XML report to FILE: push --palette-sync's Palette suite, a case per pack, failing (PALETTE_NOT_VISIBLE) where Palette does not list it; one error case for a run refused or stopped" },
    'palette-registry-name': { type: 'string', describe: 'register: name of the new registry, refused when another registry of Palette has it (default: from host and base path, with the port, then -2 ..., when another has that)' },
    'palette-ecr-role-arn': { type: 'string', describe: `register/doctor, ECR: IAM role Palette assumes (STS), instead of ${PALETTE_ECR_ENV.accessKey}/${PALETTE_ECR_ENV.secretKey}` },
    'palette-ecr-external-id': { type: 'string', describe: 'register/doctor, ECR: external id of the STS trust (from Palette)' },
  },
  examples: [
    ['$0 palette doctor --registry harbor.example.com/spectro-oci-registry', 'Print the Palette settings and check them'],
    ['printf %s "$KEY" | $0 palette register --target prod --palette-api-key-stdin', 'Add the Pack registry to Palette'],
    ['$0 palette sync --target prod', 'Sync and wait until Palette lists every published version'],
  ],
};

export const paletteCommand: CommandSpec = {
  command: 'palette <action> [packs...]',
  describe: 'Palette: doctor (settings and checks), register (add the Pack registry), sync (sync and confirm packs are visible)',
  // The Palette flags every Palette command has, then the actions' own.
  builder: (y) => declareOwnFlags(paletteFlags(declareFlags(y, [...READ_GROUPS, 'output'], {}, true)), PALETTE_COMMAND_FLAGS),
  run: async (args, ctx) => {
    const { paletteTargets, refuseEmptyPaletteFlags, PALETTE_ACTION_TEXT_FLAGS } = await import('../palette-options.js');
    const action = String(args['action']);
    if (action !== 'sync' && ((args['packs'] as unknown[] | undefined) ?? []).length > 0) {
      throw new PackpubError('USAGE', `palette ${action} takes no pack arguments`);
    }
    refuseFlagsOfOtherActions(args, action);
    // `--palette-ecr-role-arn "$ROLE"` with the variable unset sent Palette an empty role ARN, and an empty
    // --palette-registry-name asked for a registry with no name: refused as the other empty Palette flags are.
    refuseEmptyPaletteFlags(args, PALETTE_ACTION_TEXT_FLAGS);
    if (action === 'sync') return sync(args, ctx, () => paletteTargets(args, ctx));
    const targets = await paletteTargets(args, ctx);
    if (action === 'doctor') return doctor(args, ctx, oneTarget(targets));
    return register(args, ctx, oneTarget(targets));
  },
};
