// Small DOM helpers shared by the views: el() builds elements (user text only ever becomes text
// nodes or attribute values, never markup), icon() draws an icon of asset/icons.svg, richText()
// draws text with its links and shipped emoji, and reconcile() keeps a keyed list of nodes in
// step with data without rebuilding what did not change.

import { emojiUrl, splitEmoji } from './emoji.js';
import { splitLinks } from './format.js';

const SVG = 'http://www.w3.org/2000/svg';
const ICONS = '/asset/icons.svg';

/** createElement with attributes; children may be nodes or strings (added as text nodes). */
export function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) {
        if (value === null || value === undefined || value === false) continue;
        if (name === 'className') node.className = value;
        else if (name === 'text') node.textContent = value;
        else node.setAttribute(name, value === true ? '' : String(value));
    }
    for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) node.append(child);
    return node;
}

/** An icon from the sprite, hidden from assistive technology (its button carries the name). */
export function icon(name, size = 24) {
    const svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('width', String(size));
    svg.setAttribute('height', String(size));
    svg.setAttribute('aria-hidden', 'true');
    svg.setAttribute('focusable', 'false');
    svg.setAttribute('class', 'icon');
    const use = document.createElementNS(SVG, 'use');
    use.setAttribute('href', `${ICONS}#${name}`);
    svg.append(use);
    return svg;
}

/** A shipped emoji as an image whose text alternative is the character itself. */
export function emojiImage(char, className = 'emoji') {
    return el('img', { className, src: emojiUrl(char), alt: char, draggable: 'false', decoding: 'async' });
}

/** Text with shipped emoji drawn as images (so they show without an emoji font). */
export function emojiText(text) {
    return splitEmoji(text).map((run) => (run.emoji ? emojiImage(run.emoji) : document.createTextNode(run.text)));
}

/** Text with http(s) links made clickable (new tab, no opener, no referrer) and emoji drawn. */
export function richText(text) {
    return splitLinks(text).flatMap((run) =>
        run.url ? [el('a', { href: run.url, target: '_blank', rel: 'noopener noreferrer' }, run.url)] : emojiText(run.text),
    );
}

// Per container: key -> {data, node} from the previous render.
const keyedCache = new WeakMap();

/** Forgets what reconcile() knew about a container (its children were replaced). */
export function forget(parent) {
    keyedCache.delete(parent);
}

/**
 * Makes `parent`'s children the nodes for `items` ({key, data}), in order, building a node only
 * for items whose `data` changed (by identity). `patch(node, item, oldData)` may update a node
 * in place and return true instead. Nodes are moved only when out of place, so a focused
 * button usually stays where it is and keeps focus.
 */
export function reconcile(parent, items, build, patch = () => false) {
    const previous = keyedCache.get(parent) ?? new Map();
    const wanted = new Set(items.map((item) => item.key));
    for (const [key, entry] of previous) if (!wanted.has(key)) entry.node.remove();
    const next = new Map();
    items.forEach((item, index) => {
        let entry = previous.get(item.key);
        if (entry && entry.data !== item.data) {
            if (patch(entry.node, item, entry.data)) {
                entry = { data: item.data, node: entry.node };
            } else {
                entry.node.remove();
                entry = null;
            }
        }
        entry ??= { data: item.data, node: build(item) };
        next.set(item.key, entry);
        const current = parent.children[index] ?? null;
        if (current !== entry.node) parent.insertBefore(entry.node, current);
    });
    while (parent.children.length > items.length) parent.lastElementChild.remove();
    keyedCache.set(parent, next);
}

// Hue from a text so each contact keeps its colour; lightness is fixed for AA contrast.
export function hue(text) {
    let h = 0;
    for (const ch of String(text)) h = (h * 31 + ch.codePointAt(0)) % 360;
    return h;
}

/** A round avatar: the picture when safe (checked by the caller), else the name's first letter. */
export function avatar(name, seed, picture = '', className = 'avatar') {
    const circle = el('span', { className, 'aria-hidden': 'true' });
    circle.style.setProperty('--avatar-hue', String(hue(seed)));
    if (picture) {
        circle.append(el('img', { src: picture, alt: '', loading: 'lazy', referrerpolicy: 'no-referrer' }));
    } else {
        const first = Array.from(String(name).trim())[0] ?? '?';
        circle.append(...emojiText(first.toUpperCase()));
    }
    return circle;
}
