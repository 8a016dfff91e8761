// PNG plots of the room workload against room size (gnuplot from Debian, pngcairo): latency
// (p50 and p99) and server CPU per delivery, for each system and node count, with this
// machine's floor as reference lines. Written beside the results JSON as <name>-latency.png
// and <name>-cpu.png.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const COLORS = { chat: ['#1f77b4', '#17becf'], baseline: ['#d62728', '#ff7f0e'] };

function series(results) {
    const out = [];
    for (const system of ['chat', 'baseline']) {
        for (const nodes of results.config.nodes) {
            const cells = results.cells
                .filter((r) => r.system === system && r.nodes === nodes && r.workload === 'room' && r.run)
                .sort((a, b) => a.size - b.size);
            if (!cells.length) continue;
            const rows = cells.map((r) => [r.size, r.run.latencyMs.p50, r.run.latencyMs.p99, r.run.serverCpuUsPerDelivery]);
            out.push({ system, nodes, rows, color: COLORS[system][nodes > 1 ? 1 : 0] });
        }
    }
    return out;
}

function script({ dir, file, title, ylabel, plots, extra = '' }) {
    return `set terminal pngcairo size 900,560 font 'DejaVu Sans,10'
set output '${file}'
set title "${title}"
set xlabel 'room size (members)'
set ylabel '${ylabel}'
set logscale xy
set xrange [7:1400]
set xtics (10, 100, 1000)
set grid
set key outside right top
set datafile missing '?'
cd '${dir}'
${extra}
plot ${plots.join(', \\\n     ')}
`;
}

// Draws the plots; returns the PNG paths (none when gnuplot or the data is missing).
export function drawPlots(results, outDir, name, log) {
    const data = series(results);
    if (!data.length) return [];
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-bench-plot-'));
    try {
        for (const s of data) {
            const rows = s.rows.map((r) => r.map((v) => (v == null ? '?' : v)).join(' '));
            writeFileSync(path.join(dir, `${s.system}-${s.nodes}.dat`), rows.join('\n') + '\n');
        }
        const label = (s) => `${s.system}, ${s.nodes} node${s.nodes > 1 ? 's' : ''}`;
        const latencyFile = path.join(outDir, `${name}-latency.png`);
        const cpuFile = path.join(outDir, `${name}-cpu.png`);
        const latency = data.flatMap((s) => [
            `'${s.system}-${s.nodes}.dat' using 1:3 with linespoints lw 2 lc rgb '${s.color}' title '${label(s)} p99'`,
            `'${s.system}-${s.nodes}.dat' using 1:2 with linespoints lw 1 dt 2 lc rgb '${s.color}' title '${label(s)} p50'`,
        ]);
        const f = results.floor;
        const cpu = [
            ...data.map((s) => `'${s.system}-${s.nodes}.dat' using 1:4 with linespoints lw 2 lc rgb '${s.color}' title '${label(s)}'`),
            `${f.single.writerUsPerFrame} with lines dt 3 lc rgb '#555555' title 'floor: 1 frame per write()'`,
            `${f.coalesced.writerUsPerFrame} with lines dt 4 lc rgb '#999999' title 'floor: ${f.coalesced.framesPerWrite} frames per write()'`,
        ];
        const m = results.machine;
        const subtitle = `${m.cores} cores, ${m.cpu} — ${results.name}`;
        writeFileSync(path.join(dir, 'latency.gp'), script({ dir, file: latencyFile, title: `room workload: send → receive latency\\n${subtitle}`, ylabel: 'ms', plots: latency }));
        writeFileSync(path.join(dir, 'cpu.gp'), script({ dir, file: cpuFile, title: `room workload: server CPU per delivery\\n${subtitle}`, ylabel: 'µs per delivery', plots: cpu }));
        execFileSync('gnuplot', [path.join(dir, 'latency.gp')], { stdio: ['ignore', 'ignore', 'pipe'] });
        execFileSync('gnuplot', [path.join(dir, 'cpu.gp')], { stdio: ['ignore', 'ignore', 'pipe'] });
        return [latencyFile, cpuFile];
    } catch (e) {
        log(`plots skipped: ${e.message}`);
        return [];
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
