// The chat-load worker processes of one run, stepped through their phases together
// (bench/load/Worker.hpp describes the line protocol). Each waiting step has a deadline, and
// a worker that misbehaves is killed by its child handle.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import readline from 'node:readline';

const EXIT_TIMEOUT_MS = 10_000;

class Worker {
    constructor({ bin, planFile, threads, maxSeconds, logPath }) {
        this.child = spawn(bin, ['--plan', planFile, '--threads', String(threads), '--max-seconds', String(maxSeconds)], {
            stdio: ['pipe', 'pipe', 'pipe'],
        });
        this.child.stderr.pipe(createWriteStream(logPath));
        this.events = [];
        this.waiters = [];
        this.exitCode = null;
        this.exited = new Promise((resolve) =>
            this.child.once('exit', (code, signal) => {
                this.exitCode = code ?? signal;
                this.wake();
                resolve(this.exitCode);
            }),
        );
        this.child.stdin.on('error', () => {}); // a worker that died; its exit is reported instead
        readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
            try {
                this.events.push(JSON.parse(line));
            } catch {
                this.events.push({ ev: 'garbage', line });
            }
            this.wake();
        });
    }

    wake() {
        for (const w of this.waiters.splice(0)) w();
    }

    send(command) {
        this.child.stdin.write(command + '\n');
    }

    // The next event named `ev`; rejects on an error/timeout event, on exit, or after timeoutMs.
    async next(ev, timeoutMs) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const i = this.events.findIndex((e) => e.ev === ev || e.ev === 'error' || e.ev === 'timeout');
            if (i >= 0) {
                const [event] = this.events.splice(i, 1);
                if (event.ev !== ev) throw new Error(`chat-load: ${JSON.stringify(event)}`);
                return event;
            }
            if (this.exitCode !== null) throw new Error(`chat-load exited (${this.exitCode}) while waiting for ${ev}`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`chat-load: no ${ev} within ${timeoutMs} ms`);
            await new Promise((resolve) => {
                const timer = setTimeout(resolve, left);
                this.waiters.push(() => {
                    clearTimeout(timer);
                    resolve();
                });
            });
        }
    }

    async stop() {
        if (this.exitCode === null) {
            this.send('quit');
            this.child.stdin.end();
            const timer = setTimeout(() => this.child.kill('SIGKILL'), EXIT_TIMEOUT_MS);
            await this.exited;
            clearTimeout(timer);
        }
    }
}

export class WorkerGroup {
    constructor(options) {
        this.workers = options.planFiles.map(
            (planFile, i) => new Worker({ ...options, planFile, logPath: `${options.logPrefix}-worker${i + 1}.log` }),
        );
    }

    pids() {
        return this.workers.map((w) => w.child.pid);
    }

    // Sends `command` to every worker (a function gets the worker's index) and collects `ev` from each.
    async step(command, ev, timeoutMs) {
        this.workers.forEach((w, i) => w.send(typeof command === 'function' ? command(i) : command));
        return Promise.all(this.workers.map((w) => w.next(ev, timeoutMs)));
    }

    async loaded(timeoutMs) {
        return Promise.all(this.workers.map((w) => w.next('loaded', timeoutMs)));
    }

    async stop() {
        await Promise.all(this.workers.map((w) => w.stop()));
    }
}
