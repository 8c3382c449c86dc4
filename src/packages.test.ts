import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CATALOG, INSTRUMENTATION_NAMES } from './config/instrumentations';
import { planInstrumentations } from './instrumentations/load';
import { AUTO_INSTRUMENTATIONS, requireOptional, resolveOptional } from './modules';
import { CLOUD_DETECTOR_PACKAGES, installCommand, missingPeer, PEERS } from './packages';

const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

/** A package folder with a package.json and an index.js exporting `name`. */
function fakePackage(dir: string, name: string): void {
  const root = join(dir, 'node_modules', name);
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'package.json'), JSON.stringify({ name, version: '1.0.0', main: 'index.js' }));
  writeFileSync(join(root, 'index.js'), `exports.name = ${JSON.stringify(name)};\n`);
}

describe('optional packages', () => {
  const root = mkdtempSync(join(tmpdir(), 'innatural-packages-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('the peers and their ranges are package.json’s optional peerDependencies, each also a devDependency for our tests', () => {
    for (const [name, { range }] of Object.entries(PEERS)) {
      assert.equal(pkg.peerDependencies[name], range, name);
      assert.equal(pkg.peerDependenciesMeta[name]?.optional, true, name);
      assert.ok(pkg.devDependencies[name], `${name} is a devDependency`);
      assert.equal(pkg.dependencies[name], undefined, `${name} is not a dependency`);
    }
    const optional = Object.entries(pkg.peerDependenciesMeta).filter(([, m]) => m.optional).map(([n]) => n);
    assert.deepEqual(optional.sort(), Object.keys(PEERS).sort());
    assert.equal(installCommand('@sentry/node'), 'npm install @sentry/node@^11.1.0');
    assert.equal(missingPeer('@sentry/node'), 'SENTRY_DSN is set but @sentry/node is not installed: npm install @sentry/node@^11.1.0; until then errors are logged locally only');
  });

  it('the shipped instrumentations are exactly our instrumentation dependencies; the others and the cloud detectors are not dependencies', () => {
    const shipped = INSTRUMENTATION_NAMES.filter((n) => 'shipped' in CATALOG[n]).map((n) => CATALOG[n].pkg);
    const depended = INSTRUMENTATION_NAMES.map((n) => CATALOG[n].pkg).filter((p) => p in pkg.dependencies);
    assert.deepEqual(shipped.sort(), depended.sort());
    assert.ok(!(AUTO_INSTRUMENTATIONS in pkg.dependencies));
    for (const { pkg: detector } of Object.values(CLOUD_DETECTOR_PACKAGES)) assert.ok(!(detector in pkg.dependencies), detector);
  });

  it('resolves from the app’s folders, then inside the app’s auto-instrumentations-node, and says undefined when neither has it', () => {
    const app = join(root, 'app');
    fakePackage(app, '@opentelemetry/instrumentation-koa');
    // npm nests a dependency of auto-instrumentations-node whose version conflicts with the app's.
    fakePackage(app, AUTO_INSTRUMENTATIONS);
    fakePackage(join(app, 'node_modules', AUTO_INSTRUMENTATIONS), '@opentelemetry/instrumentation-hapi');
    // Our package elsewhere (a global install, NODE_PATH): nothing resolves beside it.
    const elsewhere = join(root, 'global', 'lib', 'innatural', 'dist', 'preload.js');
    mkdirSync(dirname(elsewhere), { recursive: true });

    const koa = resolveOptional('@opentelemetry/instrumentation-koa', [app], elsewhere);
    assert.equal(koa, join(app, 'node_modules', '@opentelemetry', 'instrumentation-koa', 'index.js'));
    const hapi = resolveOptional('@opentelemetry/instrumentation-hapi', [app], elsewhere);
    assert.equal(hapi, join(app, 'node_modules', AUTO_INSTRUMENTATIONS, 'node_modules', '@opentelemetry', 'instrumentation-hapi', 'index.js'));
    assert.equal(resolveOptional('@opentelemetry/instrumentation-mongodb', [app], elsewhere), undefined);
    assert.equal(resolveOptional('@sentry/node', [join(root, 'empty')], elsewhere), undefined);
    fakePackage(app, '@innatural/only-in-the-app');
    assert.deepEqual(requireOptional('@innatural/only-in-the-app', [app]), { name: '@innatural/only-in-the-app' });
    assert.equal(requireOptional('@innatural/nowhere', [app]), undefined);
  });

  it('planning: an enabled instrumentation whose target is installed but whose package is not is missing, never loaded; shipped ones are not looked up', () => {
    const looked: string[] = [];
    const plan = planInstrumentations(
      { enabled: ['express', 'koa', 'hapi', 'mongodb'], disabled: [] },
      { searchDirs: ['/app'], declared: new Set() },
      { traces: true, metrics: true, logs: true },
      (name) => ['express', 'koa', '@hapi/hapi'].includes(name),
      (p) => {
        looked.push(p);
        return p === '@opentelemetry/instrumentation-hapi';
      },
    );
    assert.deepEqual(plan, { load: ['express', 'hapi'], absent: ['mongodb'], missing: ['koa'] });
    assert.deepEqual(looked.sort(), ['@opentelemetry/instrumentation-hapi', '@opentelemetry/instrumentation-koa']);
  });
});
