// Running scripts and watching the processes they leave behind (daemons started by start.sh,
// nginx, mariadbd). Used by the deployment tests (deploy.test.mjs, run_script.test.mjs).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';

// Runs a program to completion; resolves {code, stdout, stderr}. A daemon it starts may keep
// our pipes open, so the answer comes at its exit (plus a moment for the rest of the output).
export function run(file, args = [], { cwd = os.tmpdir(), timeoutMs = 60_000, env } = {}) {
    return new Promise((resolve, reject) => {
        const child = spawn(file, args, { cwd, env: env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout += c));
        child.stderr.on('data', (c) => (stderr += c));
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('error', reject);
        child.once('exit', (code, signal) => {
            clearTimeout(timer);
            const done = () => resolve({ code: code ?? `signal ${signal}`, stdout, stderr });
            const grace = setTimeout(done, 500);
            child.once('close', () => {
                clearTimeout(grace);
                done();
            });
        });
    });
}

export function describeRun(what, res) {
    return `${what}: exit ${res.code}\nstdout: ${res.stdout}\nstderr: ${res.stderr}`;
}

// Alive, and not a zombie waiting for its parent to reap it.
export function alive(pid) {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat[stat.lastIndexOf(')') + 2] !== 'Z';
    } catch {
        return false;
    }
}

// Pids of the processes whose executable is the file `exe`.
export function pidsRunning(exe) {
    const pids = [];
    for (const entry of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        try {
            if (fs.readlinkSync(`/proc/${entry}/exe`) === exe) pids.push(Number(entry));
        } catch {
            // gone, or not ours to read
        }
    }
    return pids;
}

// Direct children (e.g. nginx's workers of a master pid).
export function childrenOf(pid) {
    try {
        return fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
        return [];
    }
}

// The number in a pid file, or null when it is missing or not a number.
export function readPid(file) {
    try {
        const pid = Number(fs.readFileSync(file, 'utf8').trim());
        return Number.isInteger(pid) && pid > 0 ? pid : null;
    } catch {
        return null;
    }
}
