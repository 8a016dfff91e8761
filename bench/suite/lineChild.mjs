// A tool process spoken to in lines: every line written to its standard input is answered with
// one line of JSON, and the end of its input ends it (chat-floor --udp-port, --disk-probe).
import { spawn } from 'node:child_process';
import readline from 'node:readline';

const TIMEOUT_MS = 10_000;

export function startLineChild(bin, args, what) {
    const child = spawn(bin, args, { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.on('error', () => {}); // a child that died; ask() reports it
    const answers = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return {
        child,
        // Its answer to one line, parsed.
        async ask() {
            if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode})`);
            child.stdin.write('\n');
            let timer;
            const timeout = new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`${what} did not answer`)), TIMEOUT_MS);
            });
            try {
                const { value, done } = await Promise.race([answers.next(), timeout]);
                if (done) throw new Error(`${what} ended early`);
                return JSON.parse(value);
            } finally {
                clearTimeout(timer);
            }
        },
        async stop() {
            if (child.exitCode !== null) return;
            const exited = new Promise((r) => child.once('exit', r));
            child.stdin.end();
            const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
            await exited;
            clearTimeout(killer);
        },
    };
}
