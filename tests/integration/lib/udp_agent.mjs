// A stand-in for an attacker on the LAN, run inside a network namespace by bus_lan.test.mjs:
//   ip netns exec NS node udp_agent.mjs PORT BROADCAST
// Listens on the bus port like a node does (SO_REUSEADDR, so it can share the port, and
// SO_BROADCAST), and speaks JSON lines: on stdin {op:"capture", on:true|false} (report every
// datagram received, as {event:"datagram", hex, from}) and {op:"send", id, hex} (broadcast these
// bytes to BROADCAST:PORT, answered with {event:"sent", id, error?}); on stdout also
// {event:"ready"} once bound. Exits when stdin closes.
import dgram from 'node:dgram';
import readline from 'node:readline';

const [port, broadcast] = [Number(process.argv[2]), process.argv[3]];
if (!Number.isInteger(port) || !broadcast) {
    process.stderr.write('usage: udp_agent.mjs PORT BROADCAST\n');
    process.exit(2);
}

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');
let capturing = false;

const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
socket.on('error', (e) => {
    process.stderr.write(`udp_agent: ${e.message}\n`);
    process.exit(1);
});
socket.on('message', (msg, rinfo) => {
    if (capturing) out({ event: 'datagram', hex: msg.toString('hex'), from: rinfo.address });
});
socket.bind(port, '0.0.0.0', () => {
    socket.setBroadcast(true);
    out({ event: 'ready' });
});

const input = readline.createInterface({ input: process.stdin });
input.on('line', (line) => {
    let cmd;
    try {
        cmd = JSON.parse(line);
    } catch {
        return out({ event: 'error', error: 'not JSON' });
    }
    if (cmd.op === 'capture') {
        capturing = Boolean(cmd.on);
    } else if (cmd.op === 'send') {
        socket.send(Buffer.from(cmd.hex, 'hex'), port, broadcast, (e) => out({ event: 'sent', id: cmd.id, error: e?.message }));
    } else {
        out({ event: 'error', error: `unknown op ${cmd.op}` });
    }
});
input.on('close', () => socket.close(() => process.exit(0)));
