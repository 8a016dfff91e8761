// Free ports for test and bench servers. No node:test hooks here, so the benches can use it too.
import { readFileSync } from 'node:fs';
import net from 'node:net';

// Ports are taken below the kernel's ephemeral range, where no outgoing connection is given
// one between the moment a port is found free and the moment its server binds it: the load
// generator opens tens of thousands of connections meanwhile.
const LOWEST = 10000;

function ephemeralStart() {
    try {
        return Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    } catch {
        return 32768; // Linux's default
    }
}

function listens(port) {
    return new Promise((resolve) => {
        const server = net.createServer();
        server.unref();
        server.once('error', () => resolve(false));
        server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
}

// A TCP port on 127.0.0.1 that was free a moment ago. The same number is usually free for UDP too.
export async function freePort() {
    const end = ephemeralStart();
    for (let attempt = 0; end > LOWEST && attempt < 200; attempt++) {
        const port = LOWEST + Math.floor(Math.random() * (end - LOWEST));
        if (await listens(port)) return port;
    }
    // No room below the ephemeral range: any port the kernel finds free.
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.unref();
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}
