import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEcrPackWorld } from '../support/ecr-proxy.js';
import { runCli } from '../support/cli.js';
import { setup } from '../support/stage.js';

/*
 * An IAM identity that may push but not read everything back (ECR User Guide: a blob download needs
 * ecr:GetDownloadUrlForLayer, a tag list ecr:ListImages): pull, inspect and list said "credentials rejected or no
 * pull permission on <repo>: ... (credentials from ECR), or run packpub login", and there is no login for ECR. Now
 * they name the action AWS denied and say to grant it, as the push side does.
 */

const w = setup((stack) => startEcrPackWorld(stack, 'testAKIDREADDENIED'));

describe('ECR: reads refused for a missing IAM action', () => {
  it('pull (ecr:GetDownloadUrlForLayer) and list (ecr:ListImages) name the action, exit 1, nothing written', async () => {
    const push = await runCli(['push', w.pack, ...w.args('rd')], { env: w.env() });
    expect(push.code, push.stderr).toBe(0);
    const cases: Array<[string, string[]]> = [
      ['GetDownloadUrlForLayer', ['pull', 'hello:1.0.0', '-o', join(w.root, 'out')]],
      ['ListImages', ['list']],
      ['ListImages', ['list', 'hello']],
    ];
    for (const [action, args] of cases) {
      w.standin.deny(action);
      try {
        const run = await runCli([...args, ...w.args('rd')], { env: w.env() });
        expect(run.code, run.stdout + run.stderr).toBe(1);
        expect(run.stderr).toContain(`error: AWS denied ecr:${action} for rd/spectro-packs/archive/hello on ${w.host}: User: arn:aws:iam::`);
        expect(run.stderr).toContain(`hint: grant ecr:${action} on the repository to the IAM identity packpub runs as (its IAM policy, or the repository's policy), then run again`);
        expect(run.stderr).not.toContain('packpub login');
      } finally {
        w.standin.allow(action);
      }
    }
    // The refused pull left nothing in the output folder that stops a pull once the action is granted.
    const pulled = await runCli(['pull', 'hello:1.0.0', ...w.args('rd'), '-o', join(w.root, 'out')], { env: w.env() });
    expect(pulled.code, pulled.stderr).toBe(0);
  });
});
