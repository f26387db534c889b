/*
 * Statistics of the public spectrocloud/pack-central repository (its packs/ folder at commit 2c7ea5c,
 * 2026-07-01), measured once on a fetched copy (issue 16) and written down here as plain numbers: the
 * benchmark corpus (corpus.ts) is generated from them and holds none of pack-central's files.
 * bench/README.md explains how each figure was measured.
 *
 * Sizes are bytes. A size distribution is the list of its values at PERCENTILES (nearest rank), so
 * `[0, 5, 10, 25, 50, 75, 90, 95, 99, 100]` percentile points of the measured files.
 */

export const PERCENTILES = [0, 5, 10, 25, 50, 75, 90, 95, 99, 100] as const;

/** Values at PERCENTILES. */
export type Quantiles = readonly [number, number, number, number, number, number, number, number, number, number];

/** How often each count occurred: `[[count, times], ...]`. */
export type Counts = ReadonlyArray<readonly [number, number]>;

export const PACK_CENTRAL = {
  /** Totals of packs/. `diskBytes` is `du -sB1` (4 KiB blocks), what `du -sh` shows as 149M. */
  packs: 220,
  files: 11_185,
  directories: 2_282,
  bytes: 115_880_876,
  diskBytes: 155_893_760,
  /** Packs with no error from `packpub validate` (the other 5 have a broken chart, logo or pack.json). */
  validating: 215,
  /** `tar -cf - packs | gzip -6` output size. */
  gzipBytes: 30_860_958,

  /**
   * Kinds of pack: chart archives only (charts/*.tgz), chart archives and the same charts unpacked beside
   * them (charts/<chart>/...), and Kubernetes manifests only (manifests/*.yaml). No pack mixes charts and
   * manifests.
   */
  mix: { archive: 35, chart: 158, manifest: 27 },

  /** Chart archives per pack with charts (193 packs, 234 archives); unpacked packs unpack each one. */
  chartsPerPack: [[1, 178], [2, 5], [3, 1], [4, 7], [7, 1], [8, 1]] as Counts,
  /** Manifests per manifest pack (27 packs, 49 manifests). */
  manifestsPerPack: [[1, 16], [2, 8], [3, 1], [4, 1], [10, 1]] as Counts,

  /** Files per unpacked chart (195 charts, 9,964 files) and per archive of archive-only packs (38 archives, 1,482 files). */
  unpackedChartFiles: [4, 6, 8, 12, 22, 63, 125, 237, 318, 367] as Quantiles,
  archiveOnlyChartFiles: [6, 9, 13, 19, 21, 53, 74, 94, 228, 228] as Quantiles,
  /** Chart archive sizes (234) and their uncompressed-to-compressed ratio x100. */
  chartArchive: [1_496, 2_592, 3_716, 9_668, 18_137, 69_918, 138_279, 157_048, 362_188, 485_150] as Quantiles,
  chartArchiveRatio100: [199, 285, 331, 456, 567, 789, 1_019, 1_102, 1_422, 2_098] as Quantiles,

  /**
   * Files of an unpacked chart besides Chart.yaml (one per chart) and values.yaml (164 of 195 charts):
   * templates/ (6,596), crds/ (304), *.md (260), everything else (2,445: .helmignore, LICENSE,
   * values.schema.json, ci/, files/, subchart metadata).
   */
  chartFileKinds: { template: 6_596, crd: 304, md: 260, other: 2_445 },
  chartValuesShare: 164 / 195,
  chartYaml: [65, 164, 195, 457, 659, 1_141, 1_241, 1_347, 1_730, 2_079] as Quantiles,
  chartValues: [39, 393, 433, 1_954, 5_152, 12_942, 25_777, 46_869, 145_577, 266_109] as Quantiles,
  template: [0, 270, 375, 591, 1_181, 2_756, 6_547, 13_105, 30_028, 1_013_153] as Quantiles,
  crd: [0, 585, 1_484, 3_057, 8_399, 56_296, 336_327, 573_888, 991_753, 1_344_570] as Quantiles,
  chartMd: [82, 399, 784, 2_095, 3_787, 18_182, 65_262, 97_179, 202_326, 476_439] as Quantiles,
  chartOther: [0, 85, 168, 349, 730, 2_533, 8_986, 26_043, 68_524, 609_648] as Quantiles,

  /**
   * Chart archives holding a values.schema.json, their own or a subchart's (Helm checks the values against
   * each; so does `packpub validate`, compiling each schema with ajv): 35 of the 234 archives, in 35 packs
   * (30 of them with the charts unpacked too). Schema files per such archive (82: 15 of a top chart, 67 of
   * subcharts; 49 distinct texts, as packs of one vendor share subcharts), and their sizes.
   */
  valuesSchemaShare: 35 / 234,
  valuesSchemasPerChart: [[1, 13], [2, 13], [3, 1], [4, 2], [5, 4], [6, 2]] as Counts,
  valuesSchema: [487, 2_167, 2_445, 4_462, 7_706, 25_276, 61_469, 66_418, 349_192, 349_192] as Quantiles,
  /**
   * Those `packpub validate` (and Helm, for certain) checks the values against: 33 of the 82 (15 of a top
   * chart, 18 of subcharts), in 25 of the 35 archives; the others belong to subcharts behind a condition,
   * tags or an alias. Per archive, and their sizes (24 distinct texts, 548 KB).
   */
  judgedValuesSchemasPerChart: [[0, 10], [1, 17], [2, 8]] as Counts,
  judgedValuesSchema: [487, 637, 1_051, 5_342, 8_745, 19_947, 25_276, 47_519, 152_901, 152_901] as Quantiles,
  /** Bytes of a values.schema.json per JSON object in it (its schemas, with their `properties` maps): 166. */
  valuesSchemaBytesPerObject: 166,

  /** Pack-level files. values.yaml by kind of pack; README.md in 181 packs, schema.yaml in 40, presets.yaml in 37. */
  packJson: [223, 286, 299, 328, 383, 618, 760, 804, 1_822, 2_320] as Quantiles,
  values: {
    archive: [758, 1_514, 2_053, 5_337, 8_285, 10_988, 21_930, 26_788, 75_001, 75_001] as Quantiles,
    chart: [202, 971, 1_261, 2_992, 7_855, 14_670, 19_930, 35_827, 150_188, 288_927] as Quantiles,
    manifest: [0, 0, 0, 35, 332, 659, 1_311, 2_476, 37_982, 37_982] as Quantiles,
  },
  readmeShare: 181 / 220,
  readme: [21, 1_091, 1_169, 1_788, 2_870, 5_033, 10_024, 18_603, 34_329, 70_655] as Quantiles,
  schemaShare: 40 / 220,
  schema: [0, 43, 62, 111, 172, 823, 2_712, 6_046, 6_046, 6_046] as Quantiles,
  presetsShare: 37 / 220,
  presets: [0, 297, 389, 990, 6_251, 20_548, 125_977, 130_332, 131_053, 131_053] as Quantiles,
  logo: [769, 2_681, 3_220, 5_810, 16_378, 47_881, 88_384, 91_169, 121_098, 125_718] as Quantiles,
  manifest: [23, 23, 686, 2_405, 6_407, 123_742, 815_682, 844_613, 2_500_832, 2_500_832] as Quantiles,

  /** gzip -6 ratio (uncompressed / compressed) of all files of a kind, for comparing the generated text. */
  gzipRatio: { template: 5.33, crd: 10.85, chartOther: 4.76, chartMd: 5.68, values: 4.12, chartValues: 4.07, manifest: 11.2, readme: 3.22, logo: 1.19 },
} as const;
