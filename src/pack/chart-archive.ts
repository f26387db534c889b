import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import tar from 'tar-stream';

/**
 * Limits for reading a chart archive. Helm refuses charts over 100 MiB decompressed by default
 * (helm/pkg/chart/loader, MaxDecompressedChartSize); we stop at the same size, and at an entry count
 * no real chart approaches, so a gzip bomb costs bounded time and no memory.
 */
export const MAX_CHART_INFLATED_BYTES = 100 * 1024 * 1024;
export const MAX_CHART_ENTRIES = 20_000;

export type ChartArchiveCheck =
  | { ok: true; /** The chart folder, e.g. `crossplane`. */ chartDir: string }
  | { ok: false; problem: 'no-chart-yaml'; topDirs: string[] }
  | { ok: false; problem: 'unreadable'; reason: string }
  | { ok: false; problem: 'too-large'; reason: string };

/**
 * Look for `<chart>/Chart.yaml` in a Helm chart archive (`helm package` output: a gzip'd tar with the
 * chart folder at the top). Streams the archive and stops at the first Chart.yaml; nothing is kept in
 * memory but entry names.
 */
export function checkChartArchive(realPath: string): Promise<ChartArchiveCheck> {
  return new Promise((resolve) => {
    const source = createReadStream(realPath);
    const gunzip = createGunzip();
    const extract = tar.extract();
    const topDirs = new Set<string>();
    let inflated = 0;
    let entries = 0;
    let settled = false;

    const finish = (result: ChartArchiveCheck): void => {
      if (settled) return;
      settled = true;
      source.destroy();
      gunzip.destroy();
      extract.destroy();
      resolve(result);
    };

    gunzip.on('data', (chunk: Buffer) => {
      inflated += chunk.length;
      if (inflated > MAX_CHART_INFLATED_BYTES) {
        finish({ ok: false, problem: 'too-large', reason: `it expands to more than ${MAX_CHART_INFLATED_BYTES / (1024 * 1024)} MiB (Helm's own limit) before a Chart.yaml appears` });
      }
    });
    extract.on('entry', (header, stream, next) => {
      entries++;
      if (entries > MAX_CHART_ENTRIES) {
        finish({ ok: false, problem: 'too-large', reason: `it has more than ${MAX_CHART_ENTRIES} entries before a Chart.yaml appears` });
        return;
      }
      const parts = header.name.replace(/^(\.\/)+/, '').split('/').filter((p) => p !== '');
      const top = parts[0];
      if (top !== undefined && topDirs.size < 20) topDirs.add(parts.length === 1 && header.type !== 'directory' ? '(files at the archive root)' : top);
      if (top !== undefined && parts.length === 2 && parts[1] === 'Chart.yaml' && (header.type === 'file' || header.type === 'contiguous-file')) {
        finish({ ok: true, chartDir: top });
        return;
      }
      stream.on('end', () => next());
      stream.resume();
    });
    extract.on('finish', () => finish({ ok: false, problem: 'no-chart-yaml', topDirs: [...topDirs] }));
    const onError = (err: Error): void => {
      finish({ ok: false, problem: 'unreadable', reason: /incorrect header check|unexpected end|invalid/i.test(err.message) ? `it is not a valid gzip'd tar archive (${err.message})` : err.message });
    };
    source.on('error', onError);
    gunzip.on('error', onError);
    extract.on('error', onError);
    source.pipe(gunzip).pipe(extract);
  });
}
