// Merging what the workers report: counters add up, histograms ([[µs, count], …], see
// bench/load/Histogram.hpp) merge bucket by bucket before any percentile is taken.

export function mergeHistograms(list) {
    const buckets = new Map();
    for (const h of list) for (const [v, n] of h ?? []) buckets.set(v, (buckets.get(v) ?? 0) + n);
    return [...buckets.entries()].sort((a, b) => a[0] - b[0]);
}

// {count, p50, p99, p999, max} in ms (bucket values, ~1.6 % resolution), or nulls when empty.
export function percentiles(hist) {
    const count = hist.reduce((a, [, n]) => a + n, 0);
    const at = (q) => {
        if (!count) return null;
        const wanted = Math.min(count, Math.max(1, Math.round(q * count)));
        let seen = 0;
        for (const [v, n] of hist) {
            seen += n;
            if (seen >= wanted) return v / 1000;
        }
        return hist[hist.length - 1][0] / 1000;
    };
    return { count, p50: at(0.5), p99: at(0.99), p999: at(0.999), max: count ? hist[hist.length - 1][0] / 1000 : null };
}

const sum = (list, f) => list.reduce((a, x) => a + (f(x) ?? 0), 0);
const minOf = (list, f) => Math.min(...list.map(f).filter((v) => v != null));
const maxOf = (list, f) => Math.max(...list.map(f).filter((v) => v != null));

function addMaps(list) {
    const out = {};
    for (const m of list) for (const [k, v] of Object.entries(m ?? {})) out[k] = (out[k] ?? 0) + v;
    return out;
}

function receivers(list) {
    return {
        expected: sum(list, (r) => r.expected),
        unique: sum(list, (r) => r.unique),
        duplicates: sum(list, (r) => r.duplicates),
        late: sum(list, (r) => r.late),
        latency: mergeHistograms(list.map((r) => r.latency)),
    };
}

// The workers' "ready" events as one connect-phase summary.
export function mergeReady(events) {
    const opened = sum(events, (e) => e.opened);
    const first = minOf(events, (e) => e.firstStartNs);
    const lastOpen = maxOf(events, (e) => e.lastOpenNs);
    const lastSync = maxOf(events, (e) => e.lastSyncNs);
    const openSeconds = (lastOpen - first) / 1e9;
    return {
        opened,
        failed: sum(events, (e) => e.failed),
        failures: addMaps(events.map((e) => e.failures)),
        synced: sum(events, (e) => e.synced),
        openSeconds,
        connectsPerSecond: opened && openSeconds > 0 ? opened / openSeconds : null,
        syncedSeconds: Number.isFinite(lastSync) ? (lastSync - first) / 1e9 : null,
        connectLatencyMs: percentiles(mergeHistograms(events.map((e) => e.connectLatency))),
        syncLatencyMs: percentiles(mergeHistograms(events.map((e) => e.syncLatency))),
        clientCpuUs: sum(events, (e) => e.cpuUs),
    };
}

// The workers' "done" events as one run summary (latencies in ms).
export function mergeDone(events) {
    const r = receivers(events.map((e) => e.receivers));
    const s = receivers(events.map((e) => e.slow));
    const firstSend = minOf(events, (e) => e.firstSendNs);
    const lastReceive = maxOf(events, (e) => e.lastReceiveNs);
    const lastSend = maxOf(events, (e) => e.lastSendNs);
    return {
        issued: sum(events, (e) => e.issued),
        skipped: sum(events, (e) => e.skipped),
        acked: sum(events, (e) => e.acked),
        errors: addMaps(events.map((e) => e.errorCodes)),
        sendSeconds: Number.isFinite(firstSend) && Number.isFinite(lastSend) ? (lastSend - firstSend) / 1e9 : null,
        deliverSeconds: Number.isFinite(firstSend) && Number.isFinite(lastReceive) ? (lastReceive - firstSend) / 1e9 : null,
        expected: r.expected,
        delivered: r.unique,
        lost: r.expected - r.unique,
        duplicates: r.duplicates,
        outOfOrder: r.late,
        latencyMs: percentiles(r.latency),
        latencyHistogram: r.latency,
        ackLatencyMs: percentiles(mergeHistograms(events.map((e) => e.ackLatency))),
        slow: {
            clients: sum(events, (e) => e.slow.clients),
            closed: sum(events, (e) => e.slow.closed),
            closeCodes: addMaps(events.map((e) => e.slow.closeCodes)),
            expected: s.expected,
            delivered: s.unique,
            duplicates: s.duplicates,
        },
        unexpected: sum(events, (e) => e.unexpected),
        foreign: sum(events, (e) => e.foreign),
        invalid: sum(events, (e) => e.invalid),
        gapNotices: sum(events, (e) => e.gapNotices),
        otherFrames: sum(events, (e) => e.otherFrames),
        closedEarly: sum(events, (e) => e.closedEarly),
        closeCodes: addMaps(events.map((e) => e.closeCodes)),
        clientCpuUs: sum(events, (e) => e.cpuUs.run),
    };
}
