import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { startHostileRegistry } from '../support/hostile-registry.js';
import { runCli } from '../support/cli.js';
import { tgz } from '../support/files.js';
import { setup } from '../support/stage.js';

/*
 * The GitHub runner takes "##[command]" anywhere in a log line as a workflow command (its older syntax:
 * ##[add-mask], ##[set-output name=x;], ##[stop-commands]). printable() spells it out in text; JSON kept it:
 * `inspect` of an artifact whose pack.json or annotations hold it printed it as is (in pack.json's block of the
 * text output, and in --json). Now every "##[" written is "##\\u005b" (inside a JSON string, the same text).
 */

// The last line is an Azure Pipelines logging command (its agent finds "##vso[" anywhere in a line of stdout or stderr).
const EVIL = 'x\n::error file=a::INJ\n##[set-output name=digest;]sha256:forged\n##vso[task.complete result=Succeeded;]forged';
const w = setup(async (stack) => {
  const hostile = stack.add(await startHostileRegistry({}));
  const repo = 'evil/spectro-packs/archive/hp';
  const layer = await tgz({ 'hp/pack.json': JSON.stringify({ name: 'hp', version: '1.0.0', displayName: EVIL, layer: 'addon' }), 'hp/values.yaml': 'a: 1\n' });
  const config = Buffer.from('{}');
  const ld = hostile.putBlob(repo, layer);
  const cd = hostile.putBlob(repo, config);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.spectrocloud.pack',
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: cd, size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: ld, size: layer.length, annotations: { 'org.opencontainers.image.title': 'hp-1.0.0.tar.gz' } }],
    annotations: { 'x.evil': EVIL },
  };
  hostile.putManifest(repo, '1.0.0', Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  return { hostile };
});

const commands = (text: string) => text.split('\n').filter((l) => /^\s*::/.test(l) || l.includes('##[') || l.includes('##vso['));

describe('JSON written to the log carries no "##["', () => {
  it('inspect --json of a hostile artifact: no command, and the document reads back with the text', async () => {
    const run = await runCli(['inspect', 'hp:1.0.0', '--json', '--registry', `${w.hostile.host}/evil`], { env: { GITHUB_ACTIONS: 'true' } });
    expect(run.code).toBe(0);
    expect(commands(run.stdout)).toEqual([]);
    const doc = JSON.parse(run.stdout) as { manifest: { content: { annotations: Record<string, string> } }; packJson?: { displayName: string } };
    expect(doc.manifest.content.annotations['x.evil']).toBe(EVIL);
    expect(run.stdout).toContain('##\\u005bset-output name=digest;]');
    expect(run.stdout).toContain('##vso\\u005btask.complete result=Succeeded;]');
  });

  it('inspect (text) shows pack.json without "##["', async () => {
    const run = await runCli(['inspect', 'hp:1.0.0', '--registry', `${w.hostile.host}/evil`], { env: { GITHUB_ACTIONS: 'true' } });
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"displayName": "x\\n::error file=a::INJ\\n##\\u005bset-output name=digest;]sha256:forged\\n##vso\\u005btask.complete result=Succeeded;]forged"');
    expect(commands(run.stdout + run.stderr)).toEqual([]);
  });
});
