import type { Finding } from './findings.js';

export interface DeepCheckInput {
  /** Absolute pack folder. */
  dir: string;
  /** Parsed pack.json (already schema-checked). */
  packJson: Record<string, unknown>;
  /** values.yaml text ('' when missing). */
  valuesText: string;
}

/**
 * Checks of values.yaml against the pack's charts and manifests, schema.yaml and presets.yaml shapes,
 * duplicate keys (the authoring issue). Findings are warnings unless they are errors by nature.
 */
export async function deepCheckPack(_input: DeepCheckInput): Promise<Finding[]> {
  return [];
}
