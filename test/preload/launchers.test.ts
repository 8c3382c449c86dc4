/**
 * `NODE_OPTIONS=--require .../register.js npm start`, and the same through npx, npm exec, yarn
 * (classic and berry), pnpm and pm2-runtime: the launcher's own Node process loads the preload
 * first and must do nothing in it; the app it starts gets everything. Checked from outside:
 * which process listens on the health port (/proc), what /metrics counts, which lines are printed.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FIXTURES, REPO, spawnApp, type RunningApp } from '../support/app';
import { launcherScript, type LAUNCHER_SCRIPTS } from '../support/launchers';
import { listeningPorts } from '../support/listeners';
import { parseExposition } from '../support/prom-text';
import { eventually } from '../support/wait';

const REQUESTS = 10;
const STARTED = '@innatural/otel started';
const skipLine = (l: Record<string, unknown>) => /does nothing in .*'s process/.test(String(l.message));

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The fixture package, copied where no package.json of the repository is above it. */
function appDir(dirs: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'innatural-launched-'));
  dirs.push(dir);
  cpSync(join(FIXTURES, 'launched-app'), dir, { recursive: true });
  return dir;
}

function preloadEnv(healthPort: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_OPTIONS: `--require ${join(REPO, 'register.js')}`,
    OTEL_LOG_LEVEL: 'debug',
    OTEL_TRACES_EXPORTER: 'none',
    INNATURAL_HEALTH_PORT: String(healthPort),
    INNATURAL_HEALTH_HOST: '127.0.0.1',
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    npm_config_audit: 'false',
    ...extra,
  };
}

interface Case {
  readonly title: string;
  readonly launcher: string;
  /** The machine's npm or npx, or a launcher installed in the cache (run as `node <script>`). */
  readonly command: 'npm' | 'npx' | keyof typeof LAUNCHER_SCRIPTS;
  readonly args: readonly string[];
  /** Files the launcher needs besides the package. */
  readonly prepare?: (dir: string) => void;
  /** `<launcher> install` first. */
  readonly install?: boolean;
  readonly env?: (dir: string) => Record<string, string>;
}

const CASES: readonly Case[] = [
  { title: 'npm start', launcher: 'npm', command: 'npm', args: ['start'] },
  { title: 'npm exec -- node server.js', launcher: 'npm', command: 'npm', args: ['exec', '--', 'node', 'server.js'] },
  { title: 'npx --no-install node server.js', launcher: 'npx', command: 'npx', args: ['--no-install', 'node', 'server.js'] },
  { title: 'yarn start (classic)', launcher: 'yarn', command: 'yarnClassic', args: ['start'] },
  {
    title: 'yarn start (berry)',
    launcher: 'yarn',
    command: 'yarnBerry',
    args: ['start'],
    // Berry runs scripts only in an installed project; with no dependency the install is offline.
    prepare: (dir) => {
      writeFileSync(join(dir, '.yarnrc.yml'), 'nodeLinker: node-modules\nenableTelemetry: false\nenableGlobalCache: false\n');
      writeFileSync(join(dir, 'yarn.lock'), '');
    },
    install: true,
  },
  { title: 'pnpm start', launcher: 'pnpm', command: 'pnpm', args: ['start'] },
  {
    title: 'pm2-runtime start server.js (PM2 in the container’s foreground)',
    launcher: 'pm2',
    command: 'pm2Runtime',
    args: ['start', 'server.js', '--no-autorestart'],
    env: (dir) => ({ PM2_HOME: join(dir, '.pm2') }),
  },
];

/** Command and arguments, or why the launcher is not available here. */
function commandFor(c: Case, args: readonly string[] = c.args): { file: string; args: string[] } | { why: string } {
  if (c.command === 'npm' || c.command === 'npx') return { file: c.command, args: [...args] };
  const script = launcherScript(c.command);
  return 'why' in script ? script : { file: process.execPath, args: [script.path, ...args] };
}

describe('launchers: the launcher’s process does nothing, the app it starts gets everything', () => {
  const dirs: string[] = [];
  const running: RunningApp[] = [];
  // PM2 starts its apps in a process group of their own: they are killed by pid too.
  const appPids: number[] = [];
  after(() => {
    for (const app of running) app.kill();
    for (const pid of appPids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone with its launcher
      }
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  for (const c of CASES) {
    it(`${c.title}: the health port is the app’s, /metrics counts its ${REQUESTS} requests, ${c.launcher} binds nothing`, async (t) => {
      const command = commandFor(c);
      if ('why' in command) return t.skip(command.why);
      const dir = appDir(dirs);
      c.prepare?.(dir);
      const install = c.install ? commandFor(c, ['install']) : undefined;
      if (install && 'file' in install) {
        const installing = await spawnApp(install.file, install.args, { cwd: dir, waitForPort: false, label: `${c.title}: install` });
        assert.deepEqual(await installing.exited, { code: 0, signal: null }, installing.stdout() + installing.stderr());
      }
      const healthPort = await freePort();
      const app = await spawnApp(command.file, command.args, {
        cwd: dir,
        env: preloadEnv(healthPort, c.env?.(dir)),
        label: c.title,
        group: true,
        readyTimeoutMs: 30_000,
      });
      running.push(app);
      const appPid = Number(/listening \d+ pid (\d+)/.exec(app.stdout())![1]);
      appPids.push(appPid);
      assert.notEqual(appPid, app.proc.pid, 'the app is a child of the launcher');

      for (let i = 0; i < REQUESTS; i++) assert.deepEqual(await (await app.get(`/hello/${i}`)).json(), { pid: appPid });
      const health = `http://127.0.0.1:${healthPort}`;
      const counted = await eventually(
        async () => {
          const res = await fetch(`${health}/metrics`).catch(() => undefined);
          if (res?.status !== 200) return undefined;
          const samples = parseExposition(await res.text()).find('innatural_chatbot_http_requests_total');
          const total = samples.reduce((sum, s) => sum + s.value, 0);
          return total === REQUESTS ? total : undefined;
        },
        5000,
        c.title,
        () => app.stderr(),
      );
      assert.equal(counted, REQUESTS);

      assert.ok(listeningPorts(appPid).includes(healthPort), `the app (pid ${appPid}) listens on the health port ${healthPort}: ${listeningPorts(appPid)}`);
      assert.deepEqual(listeningPorts(app.proc.pid!), [], `${c.launcher} (pid ${app.proc.pid}) listens on nothing`);

      const lines = app.logLines();
      const started = lines.filter((l) => l.message === STARTED);
      assert.equal(started.length, 1, app.stderr());
      assert.deepEqual((started[0]!.service as { name?: string }).name, 'launched-app', 'the start line is the app’s, named by its package.json');
      const skipped = lines.filter(skipLine);
      assert.deepEqual(
        skipped.map((l) => l.launcher),
        [c.launcher],
        `one debug line, from ${c.launcher}\n${app.stderr()}`,
      );
      assert.equal(lines.filter((l) => l.level === 'error' || l.level === 'warn').length, 0, app.stderr());
    });
  }

  it('at the default log level a launcher prints nothing at all', async () => {
    const dir = appDir(dirs);
    const healthPort = await freePort();
    const app = await spawnApp('npm', ['start'], { cwd: dir, env: { ...preloadEnv(healthPort), OTEL_LOG_LEVEL: 'info' }, label: 'npm start', group: true });
    running.push(app);
    await eventually(async () => (await fetch(`http://127.0.0.1:${healthPort}/api/health/live`).catch(() => undefined))?.ok, 5000, 'health', () => app.stderr());
    const ours = app.logLines();
    assert.deepEqual(
      ours.map((l) => l.message),
      [STARTED, 'Health server listening'],
      'the app’s two info lines, nothing from npm',
    );
  });

  it('INNATURAL_SKIP_LAUNCHERS=false: the preload starts in npm too (and npm takes the health port)', async () => {
    const dir = appDir(dirs);
    const healthPort = await freePort();
    const app = await spawnApp('npm', ['start'], {
      cwd: dir,
      env: preloadEnv(healthPort, { INNATURAL_SKIP_LAUNCHERS: 'false' }),
      label: 'npm start',
      group: true,
    });
    running.push(app);
    await eventually(async () => app.logLines().some((l) => /cannot listen/.test(String(l.message))) || undefined, 5000, 'EADDRINUSE line', () => app.stderr());
    assert.equal(app.logLines().filter((l) => l.message === STARTED).length, 2, app.stderr());
    assert.deepEqual(listeningPorts(app.proc.pid!), [healthPort], 'npm holds the health port');
  });

  it('npm run of a script the package does not have: npm’s own error and status, nothing from us', async () => {
    const dir = appDir(dirs);
    const run = async (env: Record<string, string>) => {
      const npm = await spawnApp('npm', ['run', 'no-such-script'], { cwd: dir, env, label: 'npm run', waitForPort: false, group: true });
      running.push(npm);
      return { exit: await npm.exited, stderr: npm.stderr() };
    };
    const bare = await run({ npm_config_update_notifier: 'false' });
    const ours = await run({ ...preloadEnv(await freePort()), OTEL_LOG_LEVEL: 'info' });
    assert.notEqual(bare.exit.code, 0);
    assert.deepEqual(ours.exit, bare.exit);
    for (const { stderr } of [bare, ours]) assert.match(stderr, /Missing script: "no-such-script"/);
    assert.equal(ours.stderr.split('\n').filter((l) => l.includes('@innatural/otel')).length, 0, ours.stderr);
  });

  it('npm exec of a tool we do not know: the preload acts as in an app, the tool’s output and status unchanged', async () => {
    const dir = appDir(dirs);
    const run = async (env: Record<string, string>) => {
      const npm = await spawnApp('npm', ['exec', '--', 'node', 'tool.js'], { cwd: dir, env, label: 'npm exec tool', waitForPort: false, group: true });
      running.push(npm);
      const exit = await npm.exited;
      return { exit, stdout: npm.stdout(), lines: npm.logLines() };
    };
    const bare = await run({ npm_config_update_notifier: 'false' });
    const ours = await run({ ...preloadEnv(0), OTEL_LOG_LEVEL: 'info' });
    assert.deepEqual(bare.exit, { code: 3, signal: null });
    assert.deepEqual(ours.exit, bare.exit);
    assert.equal(ours.stdout, bare.stdout);
    assert.deepEqual(
      ours.lines.filter((l) => l.message === STARTED).map((l) => (l.service as { name: string }).name),
      ['launched-app'],
      'one start line, the tool’s',
    );
  });

  it('a launcher we do not know runs the preload too: the app it starts has one clear line for the taken health port and serves on', async () => {
    const dir = appDir(dirs);
    const healthPort = await freePort();
    const app = await spawnApp(process.execPath, [join(dir, 'launcher.js')], {
      cwd: dir,
      env: { ...preloadEnv(healthPort), OTEL_LOG_LEVEL: 'info' },
      label: 'unknown launcher',
      group: true,
    });
    running.push(app);
    const appPid = Number(/listening \d+ pid (\d+)/.exec(app.stdout())![1]);
    assert.deepEqual(await (await app.get('/still-serving')).json(), { pid: appPid });
    const taken = await eventually(
      async () => {
        const lines = app.logLines().filter((l) => /Health server cannot listen/.test(String(l.message)));
        return lines.length > 0 ? lines : undefined;
      },
      5000,
      'taken port line',
      () => app.stderr(),
    );
    assert.equal(taken.length, 1, app.stderr());
    assert.match(String(taken[0]!.message), new RegExp(`127\\.0\\.0\\.1:${healthPort}: .*EADDRINUSE.*the app runs on`));
    assert.deepEqual(listeningPorts(app.proc.pid!), [healthPort], 'the unknown launcher holds it');
    assert.equal(app.logLines().filter((l) => l.message === STARTED).length, 2);
  });
});
