#!/usr/bin/env node
'use strict';
/**
 * Builds the collector distribution described by collector/builder-config.yaml with the
 * OpenTelemetry Collector builder, into a cache outside the repository keyed by the manifest's
 * hash, and reuses it when present: a cold build takes minutes, a warm one nothing.
 *
 *   npm run collector:build            build if needed, print the binary's path
 *   node collector/build.js --path     print where the binary is (or would be), build nothing
 *
 * The cache is $INNATURAL_COLLECTOR_CACHE, or ~/.cache/innatural-otel/collector. Needs Go.
 */
const { createHash } = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const MANIFEST = path.join(__dirname, 'builder-config.yaml');
const BINARY_NAME = 'otelcol-innatural';

function cacheRoot() {
  return process.env.INNATURAL_COLLECTOR_CACHE || path.join(os.homedir(), '.cache', 'innatural-otel', 'collector');
}

function manifestText() {
  return fs.readFileSync(MANIFEST, 'utf8');
}

/** The builder's version is the distribution's: one pin for every component. */
function builderVersion(text = manifestText()) {
  const m = /^\s+version:\s*([0-9][^\s#]*)/m.exec(text);
  if (!m) throw new Error(`${MANIFEST}: dist.version not found`);
  return `v${m[1]}`;
}

function binaryPath(text = manifestText()) {
  const key = createHash('sha256').update(text).digest('hex').slice(0, 16);
  return path.join(cacheRoot(), key, BINARY_NAME);
}

/** Go from PATH, else where its official archive and Debian-based images put it. */
function goEnv() {
  const extra = ['/usr/local/go/bin', path.join(os.homedir(), 'go', 'bin')];
  return { ...process.env, PATH: [process.env.PATH, ...extra].filter(Boolean).join(path.delimiter) };
}

function run(cmd, args, options) {
  execFileSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...options });
}

function installBuilder(version) {
  const bin = path.join(cacheRoot(), `builder-${version}`);
  const builder = path.join(bin, 'builder');
  if (!fs.existsSync(builder)) {
    console.error(`installing the collector builder ${version} into ${bin}`);
    run('go', ['install', `go.opentelemetry.io/collector/cmd/builder@${version}`], { env: { ...goEnv(), GOBIN: bin } });
  }
  return builder;
}

/** Returns the binary's path, building it first when the cache has none for this manifest. */
function ensureCollector() {
  const text = manifestText();
  const binary = binaryPath(text);
  if (fs.existsSync(binary)) return binary;

  const builder = installBuilder(builderVersion(text));
  const dir = path.dirname(binary);
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // Build in a scratch directory beside the final one and rename: an interrupted build never
  // leaves a half-written binary where the next run would take it for a finished one.
  const work = fs.mkdtempSync(`${dir}.building-`);
  try {
    const manifest = path.join(work, 'builder-config.yaml');
    fs.writeFileSync(manifest, text.replace(/^(\s+output_path:).*$/m, `$1 ${JSON.stringify(path.join(work, 'out'))}`));
    console.error(`building the collector (${path.relative(process.cwd(), MANIFEST)}) into ${dir}; a cold build takes a few minutes`);
    run(builder, ['--config', manifest, '--ldflags=-s -w'], { env: goEnv() });
    fs.mkdirSync(dir, { recursive: true });
    fs.renameSync(path.join(work, 'out', BINARY_NAME), binary);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return binary;
}

module.exports = { binaryPath, builderVersion, ensureCollector, MANIFEST };

if (require.main === module) {
  try {
    console.log(process.argv.includes('--path') ? binaryPath() : ensureCollector());
  } catch (error) {
    console.error(`collector build failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  }
}
