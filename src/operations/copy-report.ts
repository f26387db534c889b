import type { Digest } from '../oci/digest.js';
import type { StoreWarning } from '../targets/artifact-store.js';
import type { BlobUploadDone, BlobUploadProgress, PlannedAction } from './push-report.js';

/* copy's result model and events, beside push's (push-report.ts). */

/**
 * What happened to one pack version in a copy.
 * - copied: the version did not exist at the destination and now holds the source's manifest
 * - unchanged: the destination already held the same manifest digest (nothing written)
 * - overwritten: a different manifest was replaced (--force)
 * - skipped: a different manifest exists and --skip-existing kept it, or (`notPack`) --all found no pack under the tag
 * - conflict: a different manifest exists (or another publisher wrote one during the copy); nothing written
 * - failed: reading, uploading or verifying failed
 * - planned: --dry-run; `plan` says what would happen
 */
export type CopyStatus = 'copied' | 'unchanged' | 'overwritten' | 'skipped' | 'conflict' | 'failed' | 'planned';

export interface CopyResult {
  name: string;
  version: string;
  /** Source reference, e.g. `staging.example.com/p/spectro-packs/archive/hello:1.0.0`. */
  source: string;
  /** Destination reference. */
  destination: string;
  status: CopyStatus;
  plan?: PlannedAction;
  /** Manifest digest at the source: after a copy, the destination's digest is the same. */
  digest?: Digest;
  /** What the destination held before, when it differed (conflict, skipped, overwritten). */
  existingDigest?: Digest;
  /** Bytes of the manifest's blobs (config and layers). */
  size?: number;
  /** Blob bytes uploaded to the destination in this run (0 when it had them all). */
  copiedBytes: number;
  /** Bytes a --dry-run would upload. */
  bytesToCopy?: number;
  durationMs: number;
  error?: { code: string; message: string; hint?: string };
  /** The tag holds something other than a pack, which `--all` leaves out (status skipped): what it holds (list's notPack). */
  notPack?: string;
  /** What the destination repository keeps that differs from what was asked, short of a failure (push's PackResult.warnings). */
  warnings?: StoreWarning[];
}

export interface CopySummary {
  total: number;
  copied: number;
  unchanged: number;
  overwritten: number;
  skipped: number;
  conflict: number;
  failed: number;
  planned: number;
  copiedBytes: number;
}

export interface CopyReport {
  /** Display names of the source and destination targets. */
  from: string;
  to: string;
  results: CopyResult[];
  summary: CopySummary;
  durationMs: number;
  /** True when the run was stopped early (--fail-fast, interrupt). */
  aborted: boolean;
  /**
   * --all without a name: packs whose repository the source's listing (the catalog) names, but whose tag list
   * answers 404, also when read again after a pause: none of their versions was copied (absent when none).
   */
  tagsNotServed?: NotServedPack[];
}

export interface NotServedPack {
  name: string;
  /** The repository's reference at the source. */
  source: string;
}

export type CopyEvent =
  /** The versions the run will copy (their references), in order. */
  | { type: 'selected'; total: number; versions: Array<Pick<CopyResult, 'name' | 'version' | 'source' | 'destination'>> }
  | { type: 'pack-start'; name: string; version: string; source: string; destination: string }
  // The blob events of push (push-report.ts): one vocabulary, one status line for both.
  | BlobUploadProgress
  | BlobUploadDone
  /** Every blob of the version is at the destination and its manifest (the tag) is being written: from here an abandoned run may have copied it. */
  | { type: 'manifest-start'; name: string; version: string }
  /** Once per selected version, also for versions not started after a stop. */
  | { type: 'pack-done'; result: CopyResult };

export type CopyEventSink = (event: CopyEvent) => void;

export function summarizeCopy(results: CopyResult[]): CopySummary {
  const s: CopySummary = { total: results.length, copied: 0, unchanged: 0, overwritten: 0, skipped: 0, conflict: 0, failed: 0, planned: 0, copiedBytes: 0 };
  for (const r of results) {
    s[r.status]++;
    s.copiedBytes += r.copiedBytes;
  }
  return s;
}

/** A copy succeeded when nothing conflicted or failed and the run was not stopped. */
export function copySucceeded(report: CopyReport): boolean {
  return report.summary.conflict === 0 && report.summary.failed === 0 && !report.aborted;
}
