// The bench's private MariaDB (scripts/db.sh with CHAT_DB_DIR=var/bench-db and a port of its
// own), reset at the start of every suite run so each run starts from an empty history.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export class BenchDb {
    constructor(repoDir, { dir = 'var/bench-db', port, args = [] }) {
        this.repoDir = repoDir;
        this.env = { ...process.env, CHAT_DB_DIR: dir, CHAT_DB_PORT: String(port), CHAT_DB_ARGS: args.join(' ') };
        this.dir = path.resolve(repoDir, dir);
        this.port = port;
    }

    async script(command) {
        const { stdout } = await run('bash', ['scripts/db.sh', command], { cwd: this.repoDir, env: this.env });
        return stdout.trim();
    }

    async reset() {
        await this.script('reset');
        this.dsn = await this.script('dsn');
        const m = this.dsn.match(/^mysql:\/\/([^:]+):([^@]+)@([^:]+):(\d+)\/(\w+)$/);
        if (!m) throw new Error(`unexpected DSN from db.sh: ${this.dsn}`);
        [, this.user, this.password, this.host, , this.name] = m;
    }

    async stop() {
        await this.script('stop');
    }

    // mariadbd's pid, for its CPU time (the chat node's history writes land there).
    async pid() {
        const status = await this.script('status');
        const m = status.match(/pid (\d+)/);
        return m ? Number(m[1]) : null;
    }

    // Runs SQL text through the mariadb client as the app user; rejects with its stderr.
    sql(text) {
        return new Promise((resolve, reject) => {
            const child = spawn(
                'mariadb',
                ['--no-defaults', '-h', this.host, '-P', String(this.port), '-u', this.user, this.name],
                { env: { ...process.env, MYSQL_PWD: this.password }, stdio: ['pipe', 'pipe', 'pipe'] },
            );
            let out = '';
            let err = '';
            child.stdout.on('data', (c) => (out += c));
            child.stderr.on('data', (c) => (err += c));
            child.once('error', reject);
            child.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`mariadb: ${err.trim()}`))));
            child.stdin.end(text);
        });
    }
}
