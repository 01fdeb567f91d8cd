// Builds the dashboard into dist/: `node build.mjs` (what `make ui` runs), or
// `node build.mjs --watch` to rebuild an unminified copy into .dist-dev/ on every change
// (the daemon serves it from disk with PIOREACTORD_UI_DIR=ui/.dist-dev, see docs/dashboard.md;
// dist/, which `make` embeds, only ever holds a production build).
//
// A build is written to .dist-new/ and swapped with dist/ when complete: a failed build leaves
// the previous one, and a `go build` running meanwhile embeds one whole build, not half of one.
//
// dist/assets/ holds the esbuild bundle (hashed names, code-split chunks for the pages that
// import() lazily), dist/index.html loads it, files in public/ (if any) are copied as they
// are, and every text file gets a .gz and a .br sibling that the daemon sends to browsers
// that accept them.
import * as esbuild from 'esbuild';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('.', import.meta.url));
const dist = join(root, 'dist');
const watch = process.argv.includes('--watch');
// Where this run writes: its own folder, so two builds at once (an editor's watcher and a make)
// do not write into each other's.
const out = join(root, watch ? '.dist-dev' : `.dist-new-${process.pid}`);
const entry = 'src/main.jsx';

/** @type {esbuild.BuildOptions} */
const options = {
  absWorkingDir: root,
  entryPoints: [entry],
  bundle: true,
  format: 'esm',
  splitting: true,
  minify: !watch,
  sourcemap: watch ? 'linked' : false,
  target: 'es2020',
  platform: 'browser',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  define: { 'process.env.NODE_ENV': watch ? '"development"' : '"production"' },
  loader: { '.svg': 'file', '.png': 'file', '.woff2': 'file' },
  entryNames: '[name]-[hash]',
  chunkNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  outdir: relative(root, join(out, 'assets')),
  metafile: true,
  logLevel: 'warning',
};

// clean empties out, but for a .gitkeep (it lets `go build` embed an empty dist/).
function clean() {
  mkdirSync(out, { recursive: true });
  for (const name of readdirSync(out)) {
    if (name !== '.gitkeep') rmSync(join(out, name), { recursive: true, force: true });
  }
  writeFileSync(join(out, '.gitkeep'), '');
}

// swap puts the finished build in place of dist/.
function swap() {
  const old = join(root, `.dist-old-${process.pid}`);
  rmSync(old, { recursive: true, force: true });
  if (existsSync(dist)) renameSync(dist, old);
  renameSync(out, dist);
  rmSync(old, { recursive: true, force: true });
}

// writeIndex writes index.html for the entry's outputs in the metafile.
function writeIndex(metafile) {
  const outputs = Object.entries(metafile.outputs);
  const main = outputs.find(([, o]) => o.entryPoint === entry);
  if (!main) throw new Error(`no output for ${entry} in the metafile`);
  const [js, entryOut] = main;
  const url = (path) => '/' + relative(out, join(root, path)).split('\\').join('/');
  // Chunks the entry imports statically are fetched at once instead of after the entry parsed.
  const preloads = entryOut.imports
    .filter((i) => i.kind === 'import-statement' && !i.external)
    .map((i) => `<link rel="modulepreload" href="${url(i.path)}">`);
  const css = entryOut.cssBundle ? `<link rel="stylesheet" href="${url(entryOut.cssBundle)}">` : '';
  const icon = existsSync(join(out, 'favicon.svg'))
    ? '<link rel="icon" href="/favicon.svg" type="image/svg+xml">'
    : '<link rel="icon" href="data:,">'; // no /favicon.ico request
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pioreactor</title>
${icon}
${css}
${preloads.join('\n')}
<script type="module" src="${url(js)}"></script>
</head>
<body>
<div id="app"></div>
</body>
</html>
`.replace(/\n{2,}/g, '\n');
  writeFileSync(join(out, 'index.html'), html);
}

function* files(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else yield path;
  }
}

const compressible = /\.(js|css|html|svg|json|txt)$/;

// precompress writes path.gz (gzip -9) and path.br (brotli, best) beside every text file,
// each only when it is smaller than the file: the server falls back to the file itself.
function precompress() {
  for (const path of [...files(out)]) {
    if (!compressible.test(path)) continue;
    const raw = readFileSync(path);
    const gz = gzipSync(raw, { level: 9 });
    const br = brotliCompressSync(raw, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
        [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      },
    });
    if (gz.length < raw.length) writeFileSync(path + '.gz', gz);
    if (br.length < raw.length) writeFileSync(path + '.br', br);
  }
}

// report prints the JS+CSS sizes: all of it, and what the first page load fetches.
function report(metafile) {
  const size = (path) => {
    const full = join(root, path);
    const raw = statSync(full).size;
    const gz = existsSync(full + '.gz') ? statSync(full + '.gz').size : raw;
    const br = existsSync(full + '.br') ? statSync(full + '.br').size : raw;
    return { raw, gz, br };
  };
  const sum = (paths) =>
    paths.map(size).reduce((a, b) => ({ raw: a.raw + b.raw, gz: a.gz + b.gz, br: a.br + b.br }), { raw: 0, gz: 0, br: 0 });
  const assets = Object.keys(metafile.outputs).filter((p) => /\.(js|css)$/.test(p));
  const [js, entryOut] = Object.entries(metafile.outputs).find(([, o]) => o.entryPoint === entry);
  const initial = new Set([js]);
  if (entryOut.cssBundle) initial.add(entryOut.cssBundle);
  const walk = (p) => {
    for (const i of metafile.outputs[p].imports) {
      if (i.kind === 'import-statement' && !initial.has(i.path) && metafile.outputs[i.path]) {
        initial.add(i.path);
        walk(i.path);
      }
    }
  };
  walk(js);
  const all = sum(assets);
  const first = sum([...initial]);
  const kb = (n) => (n / 1024).toFixed(1) + ' KB';
  console.log(
    `ui: JS+CSS ${kb(all.raw)} raw, ${kb(all.gz)} gzipped in ${assets.length} files` +
      ` (first load ${kb(first.raw)} raw, ${kb(first.gz)} gzipped, ${kb(first.br)} brotli; the rest loads lazily)`,
  );
}

function copyPublic() {
  const pub = join(root, 'public');
  if (existsSync(pub)) cpSync(pub, out, { recursive: true });
}

clean();
if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [
      {
        name: 'index.html',
        setup(build) {
          build.onEnd((result) => {
            if (result.errors.length > 0) return;
            copyPublic();
            writeIndex(result.metafile);
            console.log(`ui: rebuilt ${new Date().toLocaleTimeString()}`);
          });
        },
      },
    ],
  });
  await ctx.watch();
  console.log('ui: watching src/ (Ctrl-C stops)');
} else {
  let result;
  try {
    result = await esbuild.build(options);
  } catch {
    rmSync(out, { recursive: true, force: true });
    console.error('ui: build failed (errors above)'); // esbuild printed them
    process.exit(1);
  }
  copyPublic();
  writeIndex(result.metafile);
  precompress();
  report(result.metafile); // before the swap: the metafile names the run's own folder
  swap();
}
