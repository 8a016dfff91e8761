// Result files are named after the minute a run ended (UTC): <prefix><yyyy-mm-dd>-<hhmm>.json.
// Two runs in the same minute keep both results: the later one takes a suffix (-2, -3 …).
import { existsSync } from 'node:fs';
import path from 'node:path';

export function resultName(outDir, prefix = '') {
    const d = new Date().toISOString();
    const base = `${prefix}${d.slice(0, 10)}-${d.slice(11, 13)}${d.slice(14, 16)}`;
    for (let i = 1; ; i++) {
        const name = i === 1 ? base : `${base}-${i}`;
        if (!existsSync(path.join(outDir, `${name}.json`))) return name;
    }
}
