// A test LAN made of network namespaces: one namespace per host, joined by a Linux bridge in a
// switch namespace, on a private /24 (10.231.R.0/24) that exists only inside them, plus a veth
// into the host namespace so that test clients (and a MariaDB on the host) reach the hosts.
// Also impairs the links (loss, duplication, reordering of one UDP port, with nftables and an
// HTB class: this kernel has no netem) and runs a private MariaDB the hosts can reach.
// Used by bus_lan.test.mjs and bench/bus/bench.mjs. Needs root and iproute2 (nftables for
// impair()). Imports nothing from node:test, so benchmarks can use it too.
//
// Names: every namespace and link starts with `cbl-<pid in base 36>-<2 random chars>`, so
// leftovers of a run that was killed (its pid no longer alive) are recognised and removed by
// the next run, and concurrent runs never touch each other's.
import { execFile, execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { freePort } from './ports.mjs';

const repoDir = process.env.CHAT_SOURCE_DIR ?? path.resolve(fileURLToPath(import.meta.url), '../../../..');
const NAME_RE = /^cbl-([0-9a-z]{1,5})-[0-9a-z]{2}(?:-|$)/;
// The slow class that reorders: 5 Mbit/s holds a 1.5 KB datagram ~2.4 ms, and at most 50
// queue up (~120 ms), well inside the bus's gap timeout; beyond that they are dropped (loss).
const SLOW_RATE = '5mbit';
const SLOW_LIMIT = 50;

function run(file, args, { input } = {}) {
    return new Promise((resolve, reject) => {
        const child = execFile(file, args, { timeout: 15_000 }, (err, stdout, stderr) => {
            if (err) {
                reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`));
            } else {
                resolve(stdout);
            }
        });
        if (input !== undefined) child.stdin.end(input);
    });
}

const ip = (...args) => run('ip', args);

// Whether this process may create network namespaces (root, iproute2, a kernel with netns).
export async function netnsAvailable() {
    const probe = `cbl-${process.pid.toString(36)}-pr`;
    try {
        await ip('netns', 'add', probe);
        await ip('netns', 'del', probe);
        return { ok: true };
    } catch (e) {
        return { ok: false, reason: e.message.split('\n')[0] };
    }
}

function pidAlive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return e.code === 'EPERM';
    }
}

function namesInUse() {
    const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.split(' ')[0])
        .filter(Boolean);
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.split(': ')[1]?.split('@')[0])
        .filter(Boolean);
    return { namespaces, links };
}

// Removes what runs that died without cleaning up left behind (their pid is gone).
function removeStale() {
    const { namespaces, links } = namesInUse();
    for (const name of [...namespaces, ...links]) {
        const m = name.match(NAME_RE);
        if (!m || pidAlive(parseInt(m[1], 36))) continue;
        const kind = namespaces.includes(name) ? ['netns', 'del', name] : ['link', 'del', name];
        try {
            execFileSync('ip', kind, { stdio: 'ignore' });
        } catch {
            // already gone with its namespace
        }
    }
}

// A /24 that no address or route of the host namespace uses yet.
function freeSubnet() {
    const used = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
    for (let attempt = 0; attempt < 50; attempt++) {
        const subnet = `10.231.${randomInt(256)}`;
        if (!used.includes(`${subnet}.`)) return subnet;
    }
    throw new Error('no free 10.231.x.0/24 subnet in the host namespace');
}

// Everything still existing when the process exits is deleted (synchronously: 'exit' allows no more).
const liveLans = new Set();
process.once('exit', () => {
    for (const lan of liveLans) lan.destroySync();
});

// Builds the LAN: hosts named '1'..'n' get addresses .1 .. .n, extra hosts (e.g. ['x']) get
// .100, .101, ...; the host namespace's end is .254. Resolves the lan object (see below).
export async function createLan({ hosts = 3, extra = [] } = {}) {
    removeStale();
    const prefix = `cbl-${process.pid.toString(36)}-${randomInt(36 * 36).toString(36).padStart(2, '0')}`;
    const subnet = freeSubnet();
    const names = [...Array.from({ length: hosts }, (_, i) => String(i + 1)), ...extra];
    const lan = {
        prefix,
        subnet,
        broadcast: `${subnet}.255`,
        hostAddress: `${subnet}.254`,
        switchNs: `${prefix}-sw`,
        hostLink: `${prefix}-H`,
        hosts: names.map((name, i) => ({
            name,
            ns: `${prefix}-${name}`,
            address: `${subnet}.${i < hosts ? i + 1 : 100 + i - hosts}`,
        })),
        host(name) {
            const h = lan.hosts.find((x) => x.name === String(name));
            if (!h) throw new Error(`no host ${name} in the LAN`);
            return h;
        },
        // Runs a command inside a host's namespace; resolves its stdout.
        exec(name, file, args = [], opts = {}) {
            return run('ip', ['netns', 'exec', lan.host(name).ns, file, ...args], opts);
        },
        // The command line that runs `file` inside a host's namespace (for spawn()).
        wrap(name, file, args = []) {
            return ['ip', ['netns', 'exec', lan.host(name).ns, file, ...args]];
        },
        impair: (port, opts) => impair(lan, port, opts),
        clearImpairment: () => clearImpairment(lan),
        // Packets the reordering class of each host held back (proves reordering happened).
        reorderedPackets: () => reorderedPackets(lan),
        async destroy() {
            lan.destroySync();
        },
        destroySync() {
            for (const name of [lan.hostLink, ...lan.hosts.map((h) => h.ns), lan.switchNs]) {
                const args = name === lan.hostLink ? ['link', 'del', name] : ['netns', 'del', name];
                try {
                    execFileSync('ip', args, { stdio: 'ignore' });
                } catch {
                    // never created, or already gone
                }
            }
            liveLans.delete(lan);
        },
        // Names of this LAN's namespaces and links that still exist (empty after destroy()).
        leftovers() {
            const { namespaces, links } = namesInUse();
            return [...namespaces, ...links].filter((n) => n.startsWith(prefix));
        },
    };
    liveLans.add(lan);
    try {
        await build(lan);
    } catch (e) {
        lan.destroySync();
        throw e;
    }
    return lan;
}

async function build(lan) {
    const sw = lan.switchNs;
    await ip('netns', 'add', sw);
    await ip('-n', sw, 'link', 'add', 'br0', 'type', 'bridge');
    await ip('-n', sw, 'link', 'set', 'br0', 'up');
    for (const h of lan.hosts) {
        const [a, b] = [`${lan.prefix}-${h.name}a`, `${lan.prefix}-${h.name}b`];
        await ip('netns', 'add', h.ns);
        await ip('link', 'add', a, 'type', 'veth', 'peer', 'name', b);
        await ip('link', 'set', a, 'netns', h.ns);
        await ip('link', 'set', b, 'netns', sw);
        await ip('-n', h.ns, 'link', 'set', a, 'name', 'eth0');
        await ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'brd', '+', 'dev', 'eth0');
        await ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
        await ip('-n', h.ns, 'link', 'set', 'lo', 'up');
        await ip('-n', sw, 'link', 'set', b, 'master', 'br0', 'up');
    }
    const peer = `${lan.hostLink}b`;
    await ip('link', 'add', lan.hostLink, 'type', 'veth', 'peer', 'name', peer);
    await ip('link', 'set', peer, 'netns', sw);
    await ip('-n', sw, 'link', 'set', peer, 'master', 'br0', 'up');
    await ip('addr', 'add', `${lan.hostAddress}/24`, 'brd', '+', 'dev', lan.hostLink);
    await ip('link', 'set', lan.hostLink, 'up');
}

// Impairs UDP `port` on every numbered host (not the extra ones), each independently:
// `loss` and `dup` (fractions) of the datagrams arriving on its eth0 are dropped or delivered
// twice; `reorder` of the datagrams it sends wait in a slow HTB class while later ones pass.
// The host's own broadcasts come back through its own ingress hook: they are exempt, as a
// real NIC never loses a host's copy of its own broadcast.
async function impair(lan, port, { loss = 0.05, dup = 0.05, reorder = 0.05 } = {}) {
    const permille = (f) => Math.round(f * 1000);
    for (const h of lan.hosts.filter((x) => /^\d+$/.test(x.name))) {
        const rules = `
table netdev chat_impair {
    chain ingress {
        type filter hook ingress device "eth0" priority 0; policy accept;
        ip saddr ${h.address} accept
        udp dport ${port} numgen random mod 1000 < ${permille(loss)} drop
        udp dport ${port} numgen random mod 1000 < ${permille(dup)} dup to "lo"
    }
}
table ip chat_reorder {
    chain output {
        type filter hook output priority 0; policy accept;
        udp dport ${port} numgen random mod 1000 < ${permille(reorder)} meta priority set 1:20
    }
}
`;
        await lan.exec(h.name, 'nft', ['-f', '-'], { input: rules });
        // HTB picks the class named by a packet's priority (set above) before any filter.
        const tc = (...args) => lan.exec(h.name, 'tc', args);
        await tc('qdisc', 'add', 'dev', 'eth0', 'root', 'handle', '1:', 'htb', 'default', '10');
        await tc('class', 'add', 'dev', 'eth0', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit', 'quantum', '60000');
        await tc('class', 'add', 'dev', 'eth0', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', SLOW_RATE, 'quantum', '1514');
        await tc('qdisc', 'add', 'dev', 'eth0', 'parent', '1:20', 'handle', '20:', 'pfifo', 'limit', String(SLOW_LIMIT));
    }
}

async function clearImpairment(lan) {
    for (const h of lan.hosts.filter((x) => /^\d+$/.test(x.name))) {
        for (const args of [['nft', ['delete', 'table', 'netdev', 'chat_impair']], ['nft', ['delete', 'table', 'ip', 'chat_reorder']],
            ['tc', ['qdisc', 'del', 'dev', 'eth0', 'root']]]) {
            await lan.exec(h.name, args[0], args[1]).catch(() => {});
        }
    }
}

async function reorderedPackets(lan) {
    let total = 0;
    for (const h of lan.hosts.filter((x) => /^\d+$/.test(x.name))) {
        const out = await lan.exec(h.name, 'tc', ['-s', 'class', 'show', 'dev', 'eth0', 'classid', '1:20']).catch(() => '');
        const m = out.match(/Sent \d+ bytes (\d+) pkt/);
        if (m) total += Number(m[1]);
    }
    return total;
}

// A private MariaDB (scripts/db.sh) in a fresh directory, listening on 127.0.0.1 and on the
// LAN's host address, with the app user allowed from the LAN. Resolves {dsn, port, stop()};
// `dsn` is what nodes inside the LAN use. Stopped at process exit if stop() was not called.
export async function startLanDb(lan) {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-lan-db-'));
    const env = (port) => ({
        ...process.env,
        CHAT_DB_DIR: dir,
        CHAT_DB_PORT: String(port),
        CHAT_DB_BIND: `127.0.0.1,${lan.hostAddress}`,
        CHAT_DB_EXTRA_HOST: `${lan.subnet}.%`,
    });
    const dbScript = path.join(repoDir, 'scripts', 'db.sh');
    let port;
    const stopSync = () => {
        try {
            const pid = Number(readFileSync(path.join(dir, 'db.pid'), 'utf8').trim());
            if (pid > 0) process.kill(pid, 'SIGKILL');
        } catch {
            // not running
        }
        rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', stopSync);
    for (let attempt = 1; ; attempt++) {
        port = await freePort();
        try {
            await runEnv('bash', [dbScript, 'start'], env(port));
            break;
        } catch (e) {
            if (attempt >= 3) {
                stopSync();
                throw e;
            }
            // A half-started instance would answer the next attempt with "already running".
            await runEnv('bash', [dbScript, 'stop'], env(port)).catch(() => {});
        }
    }
    const local = (await runEnv('bash', [dbScript, 'dsn'], env(port))).trim();
    return {
        port,
        localDsn: local,
        dsn: local.replace('@127.0.0.1:', `@${lan.hostAddress}:`),
        // One statement as the nodes' own user, for a test that sets up what a past run left.
        async sql(statement) {
            const url = new URL(local);
            const client = ['-h', url.hostname, '-P', url.port, '-u', decodeURIComponent(url.username)];
            const pwd = { ...process.env, MYSQL_PWD: decodeURIComponent(url.password) };
            return runEnv('mariadb', [...client, '--batch', '--skip-column-names', url.pathname.slice(1), '-e', statement], pwd);
        },
        async stop() {
            await runEnv('bash', [dbScript, 'stop'], env(port)).catch(() => {});
            stopSync();
            process.removeListener('exit', stopSync);
        },
    };
}

function runEnv(file, args, env) {
    return new Promise((resolve, reject) => {
        execFile(file, args, { env, timeout: 60_000 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`));
            else resolve(stdout);
        });
    });
}
