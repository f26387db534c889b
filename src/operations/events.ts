import type { Digest } from '../oci/digest.js';
import type { ValidationReportLike } from './types.js';
import type { PackResult } from './types.js';

/** Progress is data: operations emit these, the CLI draws them (STYLE.md #7). */
export type PushEvent =
  | { type: 'validated'; dir: string; report: ValidationReportLike }
  | { type: 'pack-start'; dir: string; name: string; version: string; reference: string }
  | { type: 'archive-built'; name: string; version: string; digest: Digest; size: number; cached: boolean }
  | { type: 'blob-upload-start'; name: string; version: string; digest: Digest; size: number }
  | { type: 'blob-upload-progress'; name: string; version: string; digest: Digest; bytes: number; size: number }
  | { type: 'blob-upload-done'; name: string; version: string; digest: Digest; size: number; skipped: boolean }
  | { type: 'pack-done'; result: PackResult };

export type EventSink = (event: PushEvent) => void;
