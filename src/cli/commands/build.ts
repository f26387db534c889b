import { parseRegistryLocation, formatReference } from '../../oci/reference.js';
import { PackpubError } from '../../errors.js';
import { DEFAULT_OCI_LAYOUT, refusePacksNamespace } from '../../targets/open.js';
import type { CommandSpec } from '../context.js';
import { declareFlags, refuseEmptyFlag, refuseEmptyPackFolders, type OwnFlags } from '../target-flags.js';
import { EXIT_OK, standardOutputAt, userPath, writeLine } from '../io.js';
import { formatBytes } from '../render.js';
import { resolvePackDir, useBlockingReads } from '../../pack/files.js';
import { stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { localWriteError, makeDirs, outputPlace, pathWithin, realAsFarAsItExists } from '../../util/fs.js';

const BUILD_FLAGS: OwnFlags = {
  positionals: { pack: { type: 'string', describe: 'Pack folder' } },
  options: {
    output: { alias: 'o', type: 'string', describe: "Archive file to write, or a folder to write <name>-<version>.tar.gz into; outside the pack folder or in a folder its .packignore leaves out (default ./<name>-<version>.tar.gz, so run build from outside the pack); - (or /dev/stdout) for standard output, the lines then on stderr" },
    registry: { alias: 'r', type: 'string', describe: 'Show the reference for this registry (HOST[:PORT]/BASE-PATH; env PACKPUB_REGISTRY)' },
    strict: { type: 'boolean', default: false, describe: 'Validation warnings fail too' },
  },
};

export const buildCommand: CommandSpec = {
  command: 'build <pack>',
  describe: 'Validate a pack and write its deterministic archive; print the reference, layer and manifest digests',
  builder: (y) => declareFlags(y, ['output'], BUILD_FLAGS),
  run: async (args, ctx) => {
    const [{ PackInvalidError, buildPack }, { envRegistry, registryArgs }] = await Promise.all([import('../../operations/build.js'), import('../target-options.js')]);
    // This run validates one pack and has nothing else to do meanwhile: its files read with blocking calls, as
    // validate's and push's are (a small pack: ~20 thread-pool round trips fewer).
    useBlockingReads();
    // The rules of every other command: --registry "" and a set-but-empty PACKPUB_REGISTRY are refused,
    // a flag beats the variable, one registry only, and never the packs repository itself.
    const given = registryArgs(args);
    if (given.length > 1) throw new PackpubError('USAGE', `--registry was given ${given.length} times; build shows the reference for one registry`);
    const registry = given[0] ?? envRegistry(ctx.io.env);
    const location = registry === undefined ? undefined : parseRegistryLocation(registry);
    if (location !== undefined) refusePacksNamespace(location.host, location.basePath);
    const pack = args['pack'] as string;
    refuseEmptyPackFolders('build', [pack]);
    // A missing folder is named as the user typed it; the operation reads it relative to this run's cwd.
    const packDir = await resolvePackDir(resolve(ctx.io.cwd, pack), pack);
    // The archive written inside the pack folder (`cd pack && packpub build .`: the default ./<name>-<version>.tar.gz)
    // changes the folder while it is packed: the build always failed, saying something else wrote into it (review s21 F8).
    // Into a folder of the pack its .packignore leaves out (`-o dist/x.tar.gz` with a line "dist/"), it is never
    // packed: that folder is made first, so that nothing the walk reads changes. A file anywhere else in the pack,
    // .packignore or not, changes a folder packpub reads (its listing) while it packs.
    // -o naming a folder (one that exists, or written with a trailing slash) takes the archive under its default name
    // (was: "EISDIR ... this is a bug in packpub" when the archive was renamed over the folder).
    // `-o=~/x` (the shell leaves a `~` after `=` alone): the home folder's, as every path flag (userPath).
    const typed = args['output'] as string | undefined;
    // `-o ""` (an unset CI variable) was the working directory: the archive written there under its default name, exit 0.
    refuseEmptyFlag('output', typed);
    // `-o -` is standard output, as for tar and curl (was: a file named "-", the lines on standard output, exit 0).
    const output = typed === undefined ? undefined : typed === '-' ? '/dev/stdout' : userPath(ctx.io, typed);
    const intoFolder = typed !== undefined && output !== undefined && (/[/\\]$/.test(typed) || (await stat(resolve(ctx.io.cwd, output)).catch(() => undefined))?.isDirectory() === true);
    const outDir = output === undefined ? ctx.io.cwd : intoFolder ? resolve(ctx.io.cwd, output) : dirname(resolve(ctx.io.cwd, output));
    // `-o /dev/stdout` (README: an archive is written into a pipe or device): the archive is all standard output may
    // hold; the lines saying what was built go to stderr (they followed the archive's bytes: `| tar xz` read
    // "trailing garbage"), and --json, which is printed there, cannot go with it.
    const toStdout = output !== undefined && !intoFolder && standardOutputAt(ctx.io, resolve(ctx.io.cwd, output)) !== undefined;
    // A terminal shows the gzip stream as garbage and may take its bytes as control sequences (tar refuses so too).
    if (toStdout && process.getBuiltinModule('node:tty').isatty(1)) {
      throw new PackpubError('USAGE', `-o ${typed ?? ''} would write the archive to the terminal`, { hint: 'send standard output to a file or a pipe (-o - | tar tz), or give -o a file' });
    }
    if (toStdout && args['json'] === true) {
      throw new PackpubError('USAGE', `-o ${typed ?? ''} and --json both write to standard output`, { hint: 'write the archive to a file with -o, or leave --json out' });
    }
    // packpub's own cache folder (its compiled code, written by every run), Docker config and AWS files inside the pack
    // folder (HOME the pack's checkout): archived, exit 0 (as push refuses them). Before the output folder is made.
    const { defaultCacheDir } = await import('../../operations/archive-cache.js');
    // An archive for a pipe or device (-o -) is written through a temp file in the temp folder (archive/build.ts).
    const through = output !== undefined && !intoFolder && (await outputPlace(resolve(ctx.io.cwd, output))).special;
    const temp = through ? { temp: (await import('node:os')).tmpdir() } : {};
    await (await import('../own-files.js')).refuseOwnFilesInPacks([packDir], { cwd: ctx.io.cwd, env: ctx.io.env, io: ctx.io, ...temp }, { dir: defaultCacheDir(ctx.io.env), written: true }, 'build');
    const within = pathWithin(packDir, await realAsFarAsItExists(outDir));
    if (within !== undefined) {
      const { packignoreLeavesOut } = await import('../../archive/walk.js');
      if (within === '' || !(await packignoreLeavesOut(packDir, within))) {
        throw new PackpubError('USAGE', `build would write the archive into ${outDir}, inside the pack folder ${packDir}, which it is packing`, {
          hint: `give -o a path outside the pack (e.g. -o ${join(dirname(packDir), `${basename(packDir)}.tar.gz`)}), run build from the folder above, or write it into a folder the pack's .packignore leaves out (a line "dist/", then -o dist/<file>.tar.gz)`,
        });
      }
      await makeDirs(outDir).catch((err: unknown) => Promise.reject(localWriteError(err, outDir)));
    }
    // In GitHub Actions, every finding of a pack refused as invalid is an annotation at its file, line and column, as
    // validate's (the ::error of the refusal alone named the first, placed nowhere).
    const annotate = async (err: unknown): Promise<never> => {
      if (err instanceof PackInvalidError && ctx.io.env['GITHUB_ACTIONS'] === 'true') {
        const { validateAnnotations } = await import('../ci-output/github.js');
        for (const line of validateAnnotations([err.report], ctx.io.env['GITHUB_WORKSPACE'] || ctx.io.cwd)) writeLine(ctx.io.stderr, line);
      }
      throw err;
    };
    const result = await buildPack(pack, {
      ...(output === undefined ? {} : intoFolder ? { outDir } : { outFile: resolve(ctx.io.cwd, output) }),
      cwd: ctx.io.cwd,
      strict: args['strict'] === true,
      env: ctx.io.env,
      basePath: location?.basePath ?? '',
      referenceFor: (repo, tag) =>
        location === undefined ? `oci:${join(DEFAULT_OCI_LAYOUT, repo)}:${tag}` : formatReference(location.host, repo, tag),
    }).catch(async (err: unknown) => {
      // The program reading standard output stopped before the archive was written whole (`-o - | head -c 5`, an upload
      // that failed): exit 1 as before, said as what it is (was: "EPIPE: broken pipe, write ... a bug in packpub").
      if (toStdout && (err as NodeJS.ErrnoException | undefined)?.code === 'EPIPE') {
        throw new PackpubError('LOCAL_WRITE', 'standard output was closed before the whole archive was written: the program reading it stopped reading', {
          hint: 'what it read is not the whole archive; check the command it was sent to, or write the archive to a file with -o',
          cause: err,
        });
      }
      return annotate(err);
    });
    if (args['json'] === true) {
      const { bytes: _bytes, ...manifest } = result.manifest;
      writeLine(ctx.io.stdout, JSON.stringify({ name: result.name, version: result.version, reference: result.reference, archive: result.archive, manifest }, null, 2));
      return EXIT_OK;
    }
    const out = toStdout ? ctx.io.stderr : ctx.io.stdout;
    writeLine(out, `built ${result.archive.path}`);
    writeLine(out, `  reference  ${result.reference}`);
    writeLine(out, `  layer      ${result.archive.digest} (${formatBytes(result.archive.size)}, ${result.archive.entries} entries)`);
    writeLine(out, `  manifest   ${result.manifest.digest} (${result.manifest.size} bytes)`);
    // Set but empty (an unset CI variable passed on) stamps the current time too (oci/manifest.ts createdTime).
    if ((ctx.io.env['SOURCE_DATE_EPOCH'] ?? '') === '') {
      writeLine(out, '  note: the manifest digest includes the current time; set SOURCE_DATE_EPOCH for a reproducible one');
    }
    return EXIT_OK;
  },
};

