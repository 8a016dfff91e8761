// Where the browser tests run: a LAN of network namespaces (lib/lan.mjs) with two chat nodes on
// hosts '1' and '2', and nginx (rendered by nginx/render.sh, on 127.0.0.1 of host 'web') plus
// headless Chromium on host 'web'. Chromium thus sees only that private subnet and its own
// loopback: nothing it does can leave the machine. MariaDB runs on the host side, reachable from the nodes only (startLanDb).
// Uses Debian's /usr/bin/chromium, driven by npm playwright-core over a pipe.
// Everything started here is stopped by stop(), which the test calls in its after() hook.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium } from 'playwright-core';

import { repoDir, startNode, tempDir, waitFor } from './cluster.mjs';
import { createLan, startLanDb } from './lan.mjs';
import { freePort } from './ports.mjs';
import { alive, childrenOf, describeRun, readPid, run } from './processes.mjs';

export const CHROMIUM = '/usr/bin/chromium';
// What every Chromium here is started with: headless, no GPU, no QUIC, and no name lookups
// except the test's own addresses (it looks up Google hosts at start-up otherwise).
export const CHROMIUM_ARGS = [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    // A fake microphone that plays a beep and no permission prompt: voice messages are recorded for real.
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
];
const NGINX_PORT = 8080; // on the 'web' namespace's loopback, where nothing else listens

// Whether this machine can run the browser tests at all: root (namespaces), Chromium, nginx.
export function browserTestsAvailable() {
    if (process.getuid?.() !== 0) return 'needs root for network namespaces';
    if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} is missing (scripts/deps.sh installs it)`;
    return null;
}

async function startNginx(lan, nodes, prefix) {
    fs.mkdirSync(path.join(prefix, 'logs'), { recursive: true });
    fs.mkdirSync(path.join(prefix, 'tmp'), { recursive: true });
    const list = path.join(prefix, 'nodes.txt');
    fs.writeFileSync(list, `${nodes.map((n) => `${n.host}:${n.port}`).join('\n')}\n`);
    // On the namespace's own loopback: the one address the mandatory resolver rule lets Chromium reach.
    const host = '127.0.0.1';
    const rendered = await run(path.join(repoDir, 'nginx', 'render.sh'), ['--nodes', list, '--prefix', prefix, '--listen', `${host}:${NGINX_PORT}`]);
    if (rendered.code !== 0) throw new Error(describeRun('render.sh', rendered));
    const conf = path.join(prefix, 'nginx.conf');
    fs.writeFileSync(conf, rendered.stdout);
    const started = await run('ip', ['netns', 'exec', lan.host('web').ns, 'nginx', '-p', prefix, '-c', conf]);
    if (started.code !== 0) throw new Error(describeRun('nginx', started));
    const pid = await waitFor(() => readPid(path.join(prefix, 'nginx.pid')), { what: 'nginx.pid' });
    return { pid, url: `http://${host}:${NGINX_PORT}`, prefix };
}

async function stopNginx(ngx) {
    if (!ngx?.pid || !alive(ngx.pid)) return;
    const workers = childrenOf(ngx.pid);
    process.kill(ngx.pid, 'SIGQUIT');
    await waitFor(() => !alive(ngx.pid), { timeoutMs: 12_000, what: 'nginx to quit' }).catch(() => process.kill(ngx.pid, 'SIGKILL'));
    for (const pid of workers) if (alive(pid)) process.kill(pid, 'SIGKILL');
}

// A script that runs Chromium inside the namespace: Playwright starts it and talks over pipes,
// which cross namespaces (`ip netns exec` execs, so the pid is Chromium's own).
function chromiumInNamespace(ns, dir) {
    const script = path.join(dir, 'chromium-in-netns.sh');
    fs.writeFileSync(script, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`, { mode: 0o755 });
    return script;
}

/**
 * Starts the LAN, MariaDB, two nodes, nginx and Chromium. Resolves
 * {url (nginx, as the browser reaches it), nodes, browser, artifacts (folder for screenshots), stop()}.
 */
export async function startBrowserEnv({ artifacts = path.join(repoDir, 'var', 'test-artifacts', 'browser') } = {}) {
    const env = { lan: null, db: null, nodes: [], ngx: null, server: null, browser: null, base: null };
    // Last resort if the runner exits without its hooks (the nodes and the LAN have their own).
    const killAll = () => {
        for (const pid of [env.browserPid, env.ngx?.pid]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    };
    process.once('exit', killAll);
    env.stop = async () => {
        await env.browser?.close().catch(() => {});
        await env.server?.close().catch(() => {});
        const pid = env.browserPid;
        if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
        await stopNginx(env.ngx).catch(() => {});
        await Promise.all(env.nodes.map((n) => n.stop()));
        await env.db?.stop();
        env.lan?.destroySync();
        if (env.base) fs.rmSync(env.base, { recursive: true, force: true });
        process.removeListener('exit', killAll);
    };
    try {
        env.lan = await createLan({ hosts: 2, extra: ['web'] });
        env.db = await startLanDb(env.lan);
        // nginx's workers run as nobody and buffer upload bodies under its prefix: keep it open to them.
        env.base = fs.mkdtempSync(path.join(os.tmpdir(), 'chat-browser-'));
        fs.chmodSync(env.base, 0o755);
        const uploadDir = path.join(env.base, 'upload');
        fs.mkdirSync(uploadDir, { mode: 0o755 });
        const busPort = await freePort();
        for (const name of ['1', '2']) {
            const host = env.lan.host(name).address;
            env.nodes.push(
                await startNode({
                    nodeId: Number(name),
                    host,
                    busPort,
                    busBroadcast: env.lan.broadcast,
                    mysql: env.db.dsn,
                    uploadDir,
                    wrap: (file, args) => env.lan.wrap(name, file, args),
                }),
            );
        }
        env.ngx = await startNginx(env.lan, env.nodes, path.join(env.base, 'nginx'));
        // launchServer, not launch: it names Chromium's pid, so cleanup can make sure it is gone.
        env.server = await chromium.launchServer({
            executablePath: chromiumInNamespace(env.lan.host('web').ns, tempDir('chat-chromium-')),
            args: CHROMIUM_ARGS,
            timeout: 30_000,
        });
        env.browserPid = env.server.process().pid;
        env.browser = await chromium.connect(env.server.wsEndpoint(), { timeout: 30_000 });
        fs.mkdirSync(artifacts, { recursive: true });
        return { ...env, url: env.ngx.url, artifacts, stop: env.stop };
    } catch (err) {
        await env.stop().catch(() => {});
        throw err;
    }
}
