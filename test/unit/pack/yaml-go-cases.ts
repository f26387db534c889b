import { afterEach, describe, expect, it } from 'vitest';
import { setFastYaml } from '../../../src/pack/yaml-go.js';
import { checkYamlText } from '../../../src/pack/yaml-source.js';

/** A text Go reads, and the first document's value it gives. */
export type GoRead = [text: string, value: unknown];
/** A text Go refuses: what the message says after "not valid YAML: ", and where (each optional). */
export type GoRefused = [text: string, says?: string, line?: number, column?: number];

/**
 * Cases checked with go-yaml on the same bytes, run through both readers (the fast one and the full one):
 * each read text gives no finding and the value Go gives; each refused text one yaml-syntax error.
 */
export function readsAsGo(title: string, read: readonly GoRead[], refused: readonly GoRefused[] = []): void {
  describe.each([true, false])(`${title} (fast reader %s)`, (fast) => {
    afterEach(() => setFastYaml(true));

    if (read.length > 0) {
      it.each(read)('%j is read, with the value Go gives', (text, value) => {
        setFastYaml(fast);
        const check = checkYamlText(text, 'values.yaml');
        expect(check.findings).toEqual([]);
        expect(check.ok).toBe(true);
        expect(check.documents[0]).toEqual(value);
      });
    }

    if (refused.length > 0) {
      it.each(refused)('%j is refused', (text, says, line, column) => {
        setFastYaml(fast);
        const check = checkYamlText(text, 'values.yaml');
        expect(check.ok).toBe(false);
        expect(check.findings).toHaveLength(1);
        expect(check.findings[0]).toMatchObject({ severity: 'error', rule: 'yaml-syntax', file: 'values.yaml', ...(line === undefined ? {} : { line, column }) });
        if (says !== undefined) expect(check.findings[0]!.message).toContain(`not valid YAML: ${says}`);
      });
    }
  });
}
