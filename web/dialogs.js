// Modal dialogs of the chat page, on the native <dialog> (focus stays inside, Escape closes, focus
// returns to the opener): a small form (red packet, contact card, news, link) and the picture
// viewer. Field labels are real <label>s; errors show inside the form.

import { el, icon } from './dom.js';
import { sentence } from './format.js';

/**
 * Shows a form in `dialog`. fields: [{name, label, type ('text'|'url'|'file'|'select'|'textarea'),
 * required, hint, inputmode, placeholder, accept, options: [{value, label}]}].
 * onSubmit(values) may return a promise; what it throws is shown and the dialog stays open.
 */
export function openForm(dialog, { title, fields, submitLabel, onSubmit }) {
    const form = el('form', { className: 'dialog-form', method: 'dialog', novalidate: true });
    const error = el('p', { className: 'form-error', role: 'alert', hidden: true });
    const controls = {};
    form.append(el('h2', { className: 'dialog-title', id: 'dialog-title', text: title }));
    fields.forEach((field, i) => {
        const id = `dialog-field-${i}`;
        const hintId = field.hint ? `${id}-hint` : null;
        let control;
        if (field.type === 'select') {
            control = el('select', { id, name: field.name, required: field.required });
            for (const option of field.options) control.append(el('option', { value: option.value, text: option.label }));
        } else if (field.type === 'textarea') {
            control = el('textarea', { id, name: field.name, rows: '3', maxlength: field.maxlength ?? null });
        } else {
            control = el('input', {
                id,
                name: field.name,
                type: field.type ?? 'text',
                required: field.required,
                inputmode: field.inputmode ?? null,
                placeholder: field.placeholder ?? null,
                accept: field.accept ?? null,
                maxlength: field.maxlength ?? null,
                autocomplete: 'off',
            });
        }
        if (hintId) control.setAttribute('aria-describedby', hintId);
        controls[field.name] = control;
        form.append(
            el('div', { className: 'field' }, el('label', { for: id, text: field.label }), control, hintId ? el('p', { className: 'hint', id: hintId, text: field.hint }) : null),
        );
    });
    const submit = el('button', { type: 'submit', className: 'btn btn-primary' }, submitLabel);
    const cancel = el('button', { type: 'button', className: 'btn' }, 'Cancel');
    form.append(error, el('div', { className: 'dialog-actions' }, cancel, submit));
    cancel.addEventListener('click', () => dialog.close());
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const values = {};
        for (const [name, control] of Object.entries(controls)) values[name] = control.type === 'file' ? (control.files?.[0] ?? null) : control.value;
        error.hidden = true;
        submit.disabled = true;
        try {
            await onSubmit(values);
            dialog.close();
        } catch (err) {
            error.textContent = sentence(err.message);
            error.hidden = false;
        } finally {
            submit.disabled = false;
        }
    });
    dialog.className = 'dialog';
    dialog.setAttribute('aria-labelledby', 'dialog-title');
    dialog.replaceChildren(form);
    dialog.showModal();
    form.querySelector('input, select, textarea')?.focus();
}

/** Shows a picture at full size; a click anywhere or Escape closes it. */
export function openPicture(dialog, src, alt) {
    const close = el('button', { type: 'button', className: 'btn-icon picture-close', 'aria-label': 'Close' }, icon('close'));
    const img = el('img', { className: 'picture-full', src, alt, referrerpolicy: 'no-referrer' });
    dialog.className = 'dialog dialog-picture';
    dialog.setAttribute('aria-label', alt);
    dialog.removeAttribute('aria-labelledby');
    dialog.replaceChildren(close, img);
    dialog.onclick = () => dialog.close();
    dialog.addEventListener('close', () => (dialog.onclick = null), { once: true });
    dialog.showModal();
    close.focus();
}
