// Free ports for test and bench servers. No node:test hooks here, so the benches can use it too.
import net from 'node:net';

// A TCP port on 127.0.0.1 that was free a moment ago. The same number is usually free for UDP too.
export function freePort() {
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
