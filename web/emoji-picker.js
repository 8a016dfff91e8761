// The emoji picker of the composer: a panel of the shipped emoji (emoji.js), grouped, each a
// button named by its character (its Unicode name as tooltip), drawn from asset/emoji so it shows
// without an emoji font. Arrow keys move between emoji (one tab stop for the whole grid), Enter
// or a click picks one, Escape closes. Built once, on first open.

import { EMOJI_GROUPS } from './emoji.js';
import { el, emojiImage } from './dom.js';

const COLUMNS = 8;

/**
 * Wires the picker: `toggle` is the "Emoji" button, `panel` the (hidden) container.
 * onPick(char) is called for every pick; the panel stays open for more.
 */
export function createEmojiPicker({ toggle, panel, onPick, onClose = () => {} }) {
    let built = false;
    let buttons = [];
    let current = 0;

    function build() {
        const sections = EMOJI_GROUPS.map((group, g) => {
            const headingId = `emoji-group-${g}`;
            const grid = el('div', { className: 'emoji-grid', role: 'group', 'aria-labelledby': headingId });
            for (const [char, name] of group.emoji) {
                const button = el('button', { type: 'button', className: 'emoji-button', 'aria-label': char, title: name, tabindex: '-1', 'data-emoji': char }, emojiImage(char, 'emoji-pick'));
                buttons.push(button);
                grid.append(button);
            }
            return el('section', { className: 'emoji-section' }, el('h3', { className: 'emoji-heading', id: headingId, text: group.name }), grid);
        });
        const scroller = el('div', { className: 'emoji-scroll' }, sections);
        panel.append(scroller, el('p', { className: 'emoji-credit', text: 'Emoji graphics: Twemoji, CC-BY 4.0' }));
        buttons[0].tabIndex = 0;
        panel.addEventListener('click', (event) => {
            const button = event.target.closest('button[data-emoji]');
            if (!button) return;
            focusAt(buttons.indexOf(button), false);
            onPick(button.dataset.emoji);
        });
        panel.addEventListener('keydown', onKey);
        built = true;
    }

    function focusAt(index, move = true) {
        const next = Math.max(0, Math.min(buttons.length - 1, index));
        buttons[current].tabIndex = -1;
        buttons[next].tabIndex = 0;
        current = next;
        if (move) buttons[next].focus();
    }

    function onKey(event) {
        const moves = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: COLUMNS, ArrowUp: -COLUMNS, Home: -Infinity, End: Infinity };
        if (event.key === 'Escape') {
            event.preventDefault();
            close(true);
        } else if (event.key in moves && event.target.closest('button[data-emoji]')) {
            event.preventDefault();
            const delta = moves[event.key];
            focusAt(Number.isFinite(delta) ? current + delta : delta < 0 ? 0 : buttons.length - 1);
        }
    }

    function isOpen() {
        return !panel.hidden;
    }

    function open() {
        if (!built) build();
        panel.hidden = false;
        toggle.setAttribute('aria-expanded', 'true');
        buttons[current].focus({ preventScroll: true });
    }

    function close(returnFocus = false) {
        if (!isOpen()) return;
        panel.hidden = true;
        toggle.setAttribute('aria-expanded', 'false');
        if (returnFocus) toggle.focus();
        onClose();
    }

    toggle.addEventListener('click', () => (isOpen() ? close() : open()));
    // A click anywhere else closes it (the composer's text box keeps what was picked).
    document.addEventListener('pointerdown', (event) => {
        if (isOpen() && !panel.contains(event.target) && !toggle.contains(event.target)) close();
    });

    return { open, close, isOpen };
}
