// `npm run build:action`: dist/'s JavaScript only, each src/ file transpiled on its own (TypeScript's
// transpileModule), without type checking, declarations or source maps. The composite action (action.yml)
// installs packpub with it on every workflow run: running packpub needs only the JavaScript, and type
// checking is this project's own CI's job (`npm run typecheck`, `npm run build`). The emitted JavaScript is
// the same as `npm run build` emits (less the source-map comment): the compiler options are
// tsconfig.build.json's, and tsconfig.json's isolatedModules makes the type check refuse any code that a
// file-by-file transpiler would emit differently.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('..', import.meta.url));
const configPath = join(root, 'tsconfig.build.json');
const config = ts.getParsedCommandLineOfConfigFile(configPath, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: fail });
if (config === undefined) process.exit(1);
if (config.errors.length > 0) fail(...config.errors);
const { rootDir, outDir } = config.options;
if (rootDir === undefined || outDir === undefined) throw new Error('tsconfig.build.json must set rootDir and outDir');
// The package is "type": "module": every file is an ES module, which NodeNext would emit as it is.
const compilerOptions = {
  ...config.options,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  declaration: false,
  declarationMap: false,
  sourceMap: false,
};
for (const file of config.fileNames) {
  if (file.endsWith('.d.ts')) continue;
  const { outputText, diagnostics = [] } = ts.transpileModule(ts.sys.readFile(file) ?? '', { compilerOptions, fileName: file, reportDiagnostics: true });
  if (diagnostics.length > 0) fail(...diagnostics);
  const out = join(outDir, relative(rootDir, file).replace(/\.ts$/, '.js'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, outputText);
}

/** @param {...ts.Diagnostic} diagnostics */
function fail(...diagnostics) {
  process.stderr.write(ts.formatDiagnostics(diagnostics, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' }));
  process.exit(1);
}
