import type { Digest } from '../oci/digest.js';
import type { Finding } from '../pack/findings.js';
import type { StoreWarning } from '../targets/artifact-store.js';

export interface ValidationReportLike {
  dir: string;
  pack?: { name: string; version: string };
  findings: Finding[];
  errors: number;
  warnings: number;
}

/**
 * What happened to one pack in a push.
 * - published: the version did not exist and was pushed
 * - unchanged: the same archive was already published under this version (nothing written)
 * - overwritten: a different archive was replaced (--force)
 * - skipped: a different archive exists and --skip-existing kept it
 * - conflict: a different archive exists; nothing written
 * - invalid: validation errors; nothing written
 * - failed: an error while building or publishing
 * - planned: --dry-run; `plan` says what would happen
 */
export type PackStatus = 'published' | 'unchanged' | 'overwritten' | 'skipped' | 'conflict' | 'invalid' | 'failed' | 'planned';

export type PlannedAction = 'new' | 'unchanged' | 'conflict' | 'overwrite' | 'skip';

export interface PackResult {
  dir: string;
  name?: string;
  version?: string;
  /** Where the pack is (or would be) published. */
  reference?: string;
  /** The target's display name (several targets in one run). */
  target?: string;
  status: PackStatus;
  plan?: PlannedAction;
  /** Manifest digest under the version tag after the run (ours, or the existing one when unchanged/conflict/skipped). */
  digest?: Digest;
  /** The archive layer. */
  layerDigest?: Digest;
  size?: number;
  /** Bytes actually uploaded in this run (0 when everything was present). */
  uploadedBytes: number;
  /** Bytes a --dry-run would upload. */
  bytesToUpload?: number;
  durationMs: number;
  error?: { code: string; message: string; hint?: string };
  findings?: Finding[];
  /** What the target's repository keeps that differs from what was asked, short of a failure (e.g. ECR settings of an existing repository). */
  warnings?: StoreWarning[];
}

export interface PushSummary {
  total: number;
  published: number;
  unchanged: number;
  overwritten: number;
  skipped: number;
  conflict: number;
  invalid: number;
  failed: number;
  planned: number;
  uploadedBytes: number;
}

export interface PushReport {
  target: string;
  results: PackResult[];
  summary: PushSummary;
  durationMs: number;
  /** True when the run was stopped early (--fail-fast, interrupt). */
  aborted: boolean;
}

/** The error of a pack --fail-fast kept from starting (cli/ci-output/causes.ts tells such packs as one cause). */
export const FAIL_FAST_NOT_STARTED = 'not started: --fail-fast stopped the run after a failure';

export function summarize(results: PackResult[]): PushSummary {
  const summary: PushSummary = {
    total: results.length,
    published: 0,
    unchanged: 0,
    overwritten: 0,
    skipped: 0,
    conflict: 0,
    invalid: 0,
    failed: 0,
    planned: 0,
    uploadedBytes: 0,
  };
  for (const r of results) {
    summary[r.status]++;
    summary.uploadedBytes += r.uploadedBytes;
  }
  return summary;
}

/** A run succeeded when no pack is invalid, conflicting or failed. */
export function pushSucceeded(report: PushReport): boolean {
  const s = report.summary;
  return s.invalid === 0 && s.conflict === 0 && s.failed === 0 && !report.aborted;
}

/** Bytes of one blob sent so far (push and copy). */
export type BlobUploadProgress = { type: 'blob-upload-progress'; name: string; version: string; digest: Digest; bytes: number; size: number };
/** One blob is at the target: sent, or `skipped` because the target had it (push and copy). */
export type BlobUploadDone = { type: 'blob-upload-done'; name: string; version: string; digest: Digest; size: number; skipped: boolean };

/** Progress is data: operations emit these, the CLI draws them (STYLE.md #7). */
export type PushEvent =
  | { type: 'validated'; dir: string; report: ValidationReportLike }
  | { type: 'pack-start'; dir: string; name: string; version: string; reference: string }
  | { type: 'archive-built'; name: string; version: string; digest: Digest; size: number; cached: boolean }
  | { type: 'blob-upload-start'; name: string; version: string; digest: Digest; size: number }
  | BlobUploadProgress
  | BlobUploadDone
  | { type: 'pack-done'; result: PackResult };

export type EventSink = (event: PushEvent) => void;
