// Specifications of web/positions.js: stream positions and the resume point.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { advance, byPosition, highestPos, lowestPos, posOf } from '../../web/positions.js';

test('posOf accepts non-negative safe integers only', () => {
    assert.equal(posOf({ pos: 12 }), 12);
    assert.equal(posOf({ pos: '12' }), 12);
    assert.equal(posOf({ pos: 0 }), 0);
    for (const bad of [{}, { pos: null }, { pos: -1 }, { pos: 1.5 }, { pos: 2 ** 53 }, { pos: 'x' }, null]) assert.equal(posOf(bad), null);
});

test('advance keeps the highest position and ignores frames without one', () => {
    assert.equal(advance(5, { pos: 9 }), 9);
    assert.equal(advance(9, { pos: 5 }), 9);
    assert.equal(advance(9, { cmd: 1 }), 9);
});

test('highest and lowest positions of a message list', () => {
    const list = [{ pos: 5 }, {}, { pos: 2 }, { pos: 9 }];
    assert.equal(highestPos(list), 9);
    assert.equal(lowestPos(list), 2);
    assert.equal(highestPos([]), 0);
    assert.equal(lowestPos([{}]), null);
});

test('byPosition orders by pos and keeps messages without one last, in their order', () => {
    const list = [{ pos: 5, n: 'c' }, { n: 'pending1' }, { pos: 1, n: 'a' }, { n: 'pending2' }, { pos: 3, n: 'b' }];
    assert.deepEqual([...list].sort(byPosition).map((m) => m.n), ['a', 'b', 'c', 'pending1', 'pending2']);
});
