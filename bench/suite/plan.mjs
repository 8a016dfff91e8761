// The workloads: who connects to which node, who sends what to whom, at which pace. A plan is
// built once per cell and run against the chat nodes and then the baseline nodes, so both see
// the same users, groups, placement and load. Connections are spread round-robin over the
// nodes and over several source addresses (127.0.0.1 … .8), and over worker processes of at
// most CONNS_PER_WORKER sockets (one process holds at most ~19,990 here).
import { writeFileSync } from 'node:fs';
import path from 'node:path';

const SOURCES = 8;
export const CONNS_PER_WORKER = 18_000;

// pairs: users in pairs on different nodes (when there are two), each sending to its partner.
function pairs(fx, nodes, { users, ratePerSec, durationMs, contentBytes }) {
    const list = fx.users(users - (users % 2));
    const connections = [];
    for (let i = 0; i < list.length; i += 2) {
        const [a, b] = [list[i], list[i + 1]];
        const pair = i / 2;
        connections.push({ user: a, node: pair % nodes, cmd: 10, dst: b.id, expect: [b.id] });
        connections.push({ user: b, node: (pair + 1) % nodes, cmd: 10, dst: a.id, expect: [a.id] });
    }
    return {
        users: list,
        groups: [],
        connections,
        pacing: { pacing: 'rate', ratePerSender: ratePerSec / list.length, durationMs, contentBytes },
        messagesPerSec: ratePerSec,
    };
}

// Groups of `size` (as many as `members` allows, at least one), members spread over the nodes,
// the first `senders` of each group sending to it.
function rooms(fx, nodes, { size, members, senders, slow = false }) {
    const count = Math.max(1, Math.floor(members / size));
    const users = [];
    const groups = [];
    const connections = [];
    for (let r = 0; r < count; r++) {
        const people = fx.users(size);
        const group = { id: fx.group(), members: people.map((u) => u.id) };
        const senderIds = people.slice(0, senders).map((u) => u.id);
        people.forEach((user, j) => {
            connections.push({
                user,
                node: j % nodes,
                cmd: j < senders ? 11 : 0,
                dst: j < senders ? group.id : 0,
                expect: senderIds.filter((id) => id !== user.id),
                // The slow reader is the last member: never a sender, on the last node.
                slow: slow && j === size - 1,
            });
        });
        users.push(...people);
        groups.push(group);
    }
    return { users, groups, connections, rooms: count, sendersTotal: count * senders };
}

function room(fx, nodes, p) {
    const r = rooms(fx, nodes, p);
    const messagesPerSec = p.deliveriesPerSec / (p.size - 1);
    r.pacing = { pacing: 'rate', ratePerSender: messagesPerSec / r.sendersTotal, durationMs: p.durationMs, contentBytes: p.contentBytes };
    r.messagesPerSec = messagesPerSec;
    return r;
}

function burst(fx, nodes, p) {
    const r = rooms(fx, nodes, p);
    const messagesPerSender = Math.ceil(p.deliveries / (p.size - 1) / r.sendersTotal);
    r.pacing = { pacing: 'burst', messagesPerSender, window: p.window, durationMs: p.maxMs, contentBytes: p.contentBytes };
    return r;
}

function slow(fx, nodes, p) {
    const r = rooms(fx, nodes, { ...p, members: p.size, slow: p.slowReader !== false });
    r.pacing = { pacing: 'rate', ratePerSender: p.ratePerSec / r.sendersTotal, durationMs: p.durationMs, contentBytes: p.contentBytes };
    r.messagesPerSec = p.ratePerSec;
    return r;
}

function hold(fx, nodes, total) {
    const users = fx.users(total);
    const connections = users.map((user, i) => ({ user, node: i % nodes, cmd: 0, dst: 0, expect: [] }));
    return { users, groups: [], connections, pacing: { pacing: 'hold' } };
}

const builders = {
    pairs,
    room,
    burst,
    slow,
    idle: (fx, nodes, p) => hold(fx, nodes, p.perNode * nodes),
    connect: (fx, nodes, p) => hold(fx, nodes, p.total),
};

// Builds a workload's plan: {users, groups, connections, pacing, …}.
export function buildPlan(workload, fixtures, nodes, params) {
    const plan = builders[workload](fixtures, nodes, params);
    plan.workload = workload;
    plan.params = params;
    return plan;
}

export function workerCount(plan) {
    return Math.max(2, Math.ceil(plan.connections.length / CONNS_PER_WORKER));
}

// Writes one plan file per worker for these servers ([{port}], indexed like the plan's nodes);
// connection i goes to worker i % workers. Returns the file names.
export function writeWorkerPlans(plan, servers, { dir, tag, limits }) {
    const workers = workerCount(plan);
    const shares = Array.from({ length: workers }, () => []);
    plan.connections.forEach((c, i) => {
        shares[i % workers].push({
            user: c.user.id,
            token: c.user.token,
            host: '127.0.0.1',
            port: servers[c.node].port,
            source: `127.0.0.${1 + (i % SOURCES)}`,
            cmd: c.cmd,
            dst: c.dst,
            expect: c.expect,
            slow: Boolean(c.slow),
        });
    });
    return shares.map((connections, w) => {
        const file = path.join(dir, `plan-${w + 1}.json`);
        writeFileSync(file, JSON.stringify({ tag, ...plan.pacing, ...limits, connections }));
        return file;
    });
}
