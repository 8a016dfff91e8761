// Stream positions (`pos`, /tmp protocol "Positions"): every chat frame and ack carries one, they
// grow in the order the user should see messages, and the highest one a device holds is where a
// reconnect resumes (`since`). Pure helpers for state.js and socket.js; tests/web/positions.test.mjs.

/** A frame's pos as a number, or null when it has none (an older node) or it is not a valid pos. */
export function posOf(frame) {
    const value = frame?.pos;
    if (value === undefined || value === null || value === '') return null;
    const n = Number(value);
    return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** The larger of a held position and a frame's pos (the held one when the frame has none). */
export function advance(held, frame) {
    const pos = posOf(frame);
    return pos !== null && pos > held ? pos : held;
}

/** Highest pos among messages, or 0. */
export function highestPos(messages) {
    let top = 0;
    for (const m of messages) if (typeof m.pos === 'number' && m.pos > top) top = m.pos;
    return top;
}

/** Lowest pos among messages, or null when none has one (history then starts from the newest). */
export function lowestPos(messages) {
    let low = null;
    for (const m of messages) if (typeof m.pos === 'number' && (low === null || m.pos < low)) low = m.pos;
    return low;
}

/** Orders messages by pos; those without one (still being sent, or from an older node) keep their order at the end. */
export function byPosition(a, b) {
    const pa = typeof a.pos === 'number' ? a.pos : Infinity;
    const pb = typeof b.pos === 'number' ? b.pos : Infinity;
    return pa === pb ? 0 : pa < pb ? -1 : 1;
}
