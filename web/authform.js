// Shared behaviour of the login and register pages: submit the form through the API, show the
// server's message on failure, and on success keep the session and open the chat.

import { sessionFromLogin, loadSession, saveSession } from './session.js';
import { sentence } from './format.js';

export const CHAT_PAGE = '/chat';

/** Someone already logged in (e.g. a bookmarked login page) goes straight to the chat. */
export function redirectIfLoggedIn() {
    if (loadSession()) {
        location.replace(CHAT_PAGE);
        return true;
    }
    return false;
}

/** What a failed login or registration tells the person, by the node's status. */
export function authErrorText(err) {
    switch (err?.status) {
        case 401:
            return 'Wrong mobile number or password. Check both and try again.';
        case 409:
            return 'This mobile number already has an account. Log in instead.';
        case 429:
            return 'Too many failed attempts. Wait a few minutes, then try again.';
        default:
            return sentence(err?.message);
    }
}

/**
 * Wires `form`: on submit, `request(fields)` is called with the trimmed values of the named
 * fields (passwords untrimmed) and must resolve to a /user/login-shaped answer.
 */
export function wireAuthForm(form, errorBox, request) {
    const button = form.querySelector('button[type="submit"]');
    form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const fields = {};
        for (const input of form.querySelectorAll('input[name]')) {
            fields[input.name] = input.type === 'password' ? input.value : input.value.trim();
        }
        errorBox.hidden = true;
        errorBox.textContent = '';
        button.disabled = true;
        form.setAttribute('aria-busy', 'true');
        try {
            saveSession(sessionFromLogin(await request(fields)));
            location.replace(CHAT_PAGE);
        } catch (err) {
            errorBox.textContent = authErrorText(err);
            errorBox.hidden = false;
            button.disabled = false;
            form.removeAttribute('aria-busy');
        }
    });
}
